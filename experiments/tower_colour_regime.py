"""The regime tower colour (experiments/tower_colour.py) trains in: at --size cpu, the one
experiments/declarations/tower_colour_regime_v1.yaml declares (the task, the model, each run
stopped at the task's calibrated accuracy, the seeds); the seeds that never reached it are
removed and counted."""

from __future__ import annotations

from pathlib import Path

import yaml

from experiments.lab.claims import reference_overrides
from experiments.lab.harness import size_overrides

REGIME = Path(__file__).resolve().parent / "declarations" / "tower_colour_regime_v1.yaml"
TINY_TARGET = 0.0  # the tests' stop: the first validation ends the run
SEEDS = {"tiny": 2, "full": 5}  # cpu: the declaration's
DATA = {"tiny": "synthetic_hard", "full": None}  # cpu: the declaration's task
MODEL = {
    "tiny": [
        "model=paper2012",
        "model.init=kaiming",
        "data.image_size=67",
        "trainer.check_val_every_n_epoch=1",
    ],
    "full": [
        "model=paper2012",
        "data.image_size=227",
        "data.resize_size=256",
        "trainer.max_epochs=90",
    ],
}


def recipe(size: str) -> list[str]:
    """The claims file's reference recipe, less its epochs (this experiment sets its own)."""
    return [
        o
        for o in reference_overrides(size)
        if not o.startswith(("trainer.max_epochs=", "trainer.check_val_every_n_epoch="))
    ]


def regime() -> dict:
    """The cpu size's declared regime (declarations/tower_colour_regime_v1.yaml)."""
    return yaml.safe_load(REGIME.read_text())


def stop_at(target: float) -> list[str]:
    """Lightning's EarlyStopping ending the run at the first validation at or above `target`
    (its patience off: only the threshold stops it; Lightning stops strictly above it)."""
    key = "+callbacks.stop_at_target"
    return [
        f"{key}._target_=lightning.pytorch.callbacks.EarlyStopping",
        f"{key}.monitor=val/acc1",
        f"{key}.mode=max",
        f"{key}.stopping_threshold={target - 1e-9:.10g}",  # at or above: Lightning's is >
        f"{key}.patience=100000",
        f"{key}.check_on_train_epoch_end=false",
    ]


def plan(size: str, data: str | None, data_root: str | None) -> tuple[list[str], int, float | None]:
    """(the overrides, the seeds, the target val/acc1 or None) of a size: at cpu, the
    declaration's task, model, epochs, stop and seeds; no other callbacks (pictures cost time)."""
    if size == "cpu":
        declared = regime()
        training = declared["training"]
        sized = [
            o
            for o in size_overrides(size, data=declared["task"].split("=", 1)[1])
            if not o.startswith(("model=", "data.image_size="))
        ]
        target = float(declared["target_val_acc1"])
        return (
            [
                *sized,
                *recipe(size),
                *declared["model"],
                f"trainer.max_epochs={training['max_epochs']}",
                f"trainer.check_val_every_n_epoch={training['check_val_every_n_epoch']}",
                "callbacks=none",
                *stop_at(target),
            ],
            len(declared["seeds"]),
            target,
        )
    sized = [
        o
        for o in size_overrides(size, data_root, data or DATA[size])
        if not o.startswith(("model=", "data.image_size="))
    ]
    target = TINY_TARGET if size == "tiny" else None
    stop = stop_at(target) if target is not None else []
    return [*sized, *recipe(size), *MODEL[size], *stop], SEEDS[size], target


def in_regime(
    change: dict[int, list[dict[str, object]]], target: float | None
) -> tuple[dict[int, list[dict[str, object]]], dict[str, str]]:
    """The seeds whose run reached the target val/acc1 (all, without a target), and the others
    removed with why (declarations/tower_colour_regime_v1.yaml's rule)."""
    if target is None:
        return change, {}
    kept, removed = {}, {}
    for seed, pair in change.items():
        val = pair[0].get("val top-1")
        if val is None or float(val) < target:
            removed[str(seed)] = f"ended at the cap below the target val/acc1 {target:g} ({val})"
        else:
            kept[seed] = pair
    return kept, removed


def stop_note(
    change: dict[int, list[dict[str, object]]], target: float | None, removed: dict[str, str]
) -> str:
    """Each seed's stopping epoch and val/acc1 against the declared target."""
    if target is None or not change:
        return ""
    runs = ", ".join(
        f"seed {seed}: {int(pair[0]['epochs'] or 0)} epochs, "
        f"val {float(pair[0]['val top-1'] or 0):.3f}"
        for seed, pair in sorted(change.items())
    )
    return (
        f"Each run stopped at its first validation at or above val/acc1 {target:g} (the task's "
        f"calibrated accuracy), or at the cap: {runs}. Removed (never reached it): "
        f"{len(removed)}.\n\n"
    )
