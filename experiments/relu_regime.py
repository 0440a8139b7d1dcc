"""The regime ReLU against tanh (experiments/relu_vs_tanh.py) runs in: at --size cpu, the one
experiments/declarations/relu_regime_v1.yaml declares (candidate tasks in order, the rate grid,
the horizon, the probe, the seeds and the rule a candidate must pass); at tiny (the tests) and
full, the same rule on their own settings. What qualifies a candidate, and the rates beyond a
grid edge, are read from the sweep's runs here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from experiments.lab.runs import Run
from experiments.relu_vs_tanh_runs import (
    activation,
    final_dead,
    is_dead,
    learning_rate,
    steps_per_epoch,
    steps_to,
    training_errors,
)

DECLARATION = Path(__file__).resolve().parent / "declarations" / "relu_regime_v1.yaml"
EDGE_STEP = 2**0.5  # the grid's ratio: the rates added beyond an edge


@dataclass(frozen=True)
class Regime:
    """Everything a ReLU-against-tanh run and its choices depend on, at one size."""

    setup: tuple[str, ...]  # the overrides of every run (after the size's own)
    candidates: tuple[tuple[str, tuple[str, ...]], ...]  # (name, its overrides), in order
    rates: tuple[float, ...]
    sweep_seeds: tuple[int, ...]
    seeds: tuple[int, ...]  # the claim's fresh training seeds
    target: float
    horizon: int  # epochs of the claim's runs (and the sweep's at most)
    probe: tuple[int, int]  # every n steps, images
    min_epochs: float  # the slower activation's mean epochs to the target, at least
    room_epochs: float  # every sweep seed at the kept rates reaches it by then
    dead_gate: float  # no layer above this share of dead units at the kept rates
    declared: str = ""  # the declaration file, or "" (tiny: the tests' own)
    enforced: bool = True  # False (tiny): the rule is reported, the claim's runs made anyway


FIXED = (
    "model=four_layer",
    "model.init=default",
    "dropout=none",
    "optimizer=sgd",
    "optimizer.momentum=0.9",
    "optimizer.weight_decay=0",
    "schedule=constant",
    "data.augment=none",
    "test=false",
    "callbacks=none",
)


def declared(path: Path = DECLARATION, seeds: int | None = None) -> Regime:
    """The cpu size's regime, as the declaration states it (`seeds`: the first n fresh seeds
    only, for a shorter re-run; never more than declared)."""
    data = yaml.safe_load(path.read_text())
    setup, horizon = data["setup"], int(data["horizon_epochs"])
    every = data["claim_runs"]["seeds"]
    rule_numbers = {key: float(value) for key, value in data["qualify"].items()}
    return Regime(
        setup=(
            *FIXED,
            f"data.seed={setup['data_seed']}",
            f"data.batch_size={setup['batch_size']}",
            f"data.image_size={setup['image_size']}",
            f"trainer.max_epochs={horizon}",
            f"trainer.check_val_every_n_epoch={horizon}",  # the task's val once, at the end
        ),
        candidates=tuple((c["name"], tuple(c["overrides"])) for c in data["candidates"]),
        rates=tuple(float(r) for r in data["rates"]),
        sweep_seeds=tuple(int(s) for s in data["sweep_seeds"]),
        seeds=tuple(every[: seeds or len(every)]),
        target=float(data["target_error"]),
        horizon=horizon,
        probe=(int(data["probe"]["every_n_steps"]), int(data["probe"]["images"])),
        declared=str(path.relative_to(path.parents[2])),
        **rule_numbers,
    )


def tiny(target: float, seeds: int) -> Regime:
    """The tests' regime: seconds per run, the rule reported but not enforced (a 2-epoch run
    cannot need 20 epochs), the same code path otherwise."""
    return Regime(
        setup=(*FIXED, "data.seed=0", "data.image_size=32", "trainer.max_epochs=2"),
        candidates=(("tiny synthetic", ()),),
        rates=(0.01, 0.03),
        sweep_seeds=(0, 99),
        seeds=tuple(range(1, seeds + 1)),
        target=target,
        horizon=2,
        probe=(1, 18),
        min_epochs=0.0,
        room_epochs=2.0,
        dead_gate=1.0,
        enforced=False,
    )


def full(data_overrides: list[str], target: float, seeds: int) -> Regime:
    """The full size: the declared setup and rule on a named dataset at its native size."""
    cpu = declared()
    setup = tuple(o for o in cpu.setup if not o.startswith("data.image_size="))
    return Regime(
        **{
            **cpu.__dict__,
            "setup": setup,
            "candidates": (("the given dataset", tuple(data_overrides)),),
            "seeds": tuple(range(1, seeds + 1)),
            "target": target,
            "probe": (50, 2000),
        }
    )


def epochs_to(run: Run, target: float) -> float | None:
    steps, per_epoch = steps_to(training_errors(run), target), steps_per_epoch(run)
    return None if steps is None or not per_epoch else steps / per_epoch


def failures(sweep: list[Run], chosen: dict[str, float], regime: Regime) -> list[str]:
    """Why the candidate does not qualify at the kept rates (empty: it does), in the
    declaration's words."""
    names = sorted({activation(r) for r in sweep})
    missing = [n for n in names if n not in chosen]
    if missing:
        return [f"{', '.join(missing)} kept no rate (every rate died or missed the target)"]
    why, means = [], {}
    for name in names:
        kept = [r for r in sweep if activation(r) == name and learning_rate(r) == chosen[name]]
        epochs = [None if is_dead(r) else epochs_to(r, regime.target) for r in kept]
        if any(e is None or e > regime.room_epochs for e in epochs):
            why.append(
                f"{name} at {chosen[name]:g}: a sweep seed did not reach the target by epoch "
                f"{regime.room_epochs:g}"
            )
        else:
            means[name] = sum(epochs) / len(epochs)  # type: ignore[arg-type]
        worst = max((max(final_dead(r).values(), default=0.0) for r in kept), default=0.0)
        if worst > regime.dead_gate:
            why.append(f"{name} at {chosen[name]:g}: a layer ends {worst:.2f} dead")
    if len(means) == len(names) and max(means.values()) < regime.min_epochs:
        slower = max(means, key=means.__getitem__)
        why.append(
            f"the slower activation ({slower}) needs {means[slower]:.1f} epochs on average, "
            f"under {regime.min_epochs:g}"
        )
    return why


def beyond_edge(chosen: dict[str, float], tried: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per activation whose kept rate is the lowest or highest it tried (of more than two), the
    next two rates beyond that edge (x1.41 each), rounded as the grid is."""
    added = {}
    for name, rate in chosen.items():
        rates = sorted(set(tried[name]))
        if len(rates) <= 2 or rate not in (rates[0], rates[-1]):
            continue
        factor = EDGE_STEP if rate == rates[-1] else 1 / EDGE_STEP
        added[name] = [round(rate * factor**k, 5) for k in (1, 2)]
    return added
