"""The paper's Figure 3: does training make one tower's first-layer kernels colour-agnostic and
the other's colour-specific?

    python -m experiments.tower_colour [--size tiny|cpu|full] [--seeds N] [--out DIR]
                                       [--data NAME] [--data-root PATH] [hydra overrides ...]
    python -m experiments.tower_colour --report DIR [--out OUT]   # re-make the report

`paper2012` (two towers: conv2, conv4 and conv5 see only their own tower's maps) is trained over
seeds through the framework, and each run keeps its own initial conv1 weights W0 in its
checkpoints (alexnet.callbacks.initial_weights). The instrument reads what training did, W - W0,
not the weights (at these sizes W is mostly its random init, whose chroma share is 2/3
whatever training does): per tower, the chroma share of the change (the fraction of its energy
off the luminance axis, alexnet.interpret.colour) and how far it moved, ||W - W0|| / ||W0||.

Claim `tower_colour` (experiments/claims.yaml): the gap between the two towers' mean chroma
shares of W - W0, against the gap between two random halves of the same kernels (the null: a
split that has no towers, through the same estimator, since a gap of two noisy means is above 0
by itself), paired by seed. The init's own tower gap and the trained weights' are shown beside
it. At the `cpu` size, the regime experiments/declarations/tower_colour_regime_v1.yaml
declares (tower_colour_regime.py): the two-tower net under the claims' reference recipe on
hard-v1, conv2-5 and fc at half width (conv1 keeps its 2 x 48 kernels) at 67 px, each run stopped
at its first validation at or above the task's calibrated accuracy (capped at 80 epochs; a seed
that never reaches it is removed and counted), 9 seeds. Writes
tower_colour.md/.csv, towers.csv, effect.json, filters.png (conv1's change W - W0 of seed 0,
one block per tower), runs.json and provenance.json.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from alexnet.callbacks.initial_weights import initial_weights
from alexnet.interpret.colour import chroma_share, random_halves_gap, relative_change, towers_gap
from alexnet.run.checkpoints import resolve_checkpoint
from alexnet.tables import markdown_table, write_table
from alexnet.training.module import AlexNetModule
from alexnet.viz import AlexNetVisualizer
from experiments.ablation_runs import seed_of
from experiments.lab.claims import (
    Measured,
    claim,
    effect_sentence,
    full_data,
    measured,
    write_effect,
)
from experiments.lab.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
    require_data_at_full,
    run_sweep,
)
from experiments.lab.provenance import provenance_markdown, read_provenance
from experiments.lab.runs import load_runs
from experiments.lab.stats import mean_ci
from experiments.tower_colour_regime import (  # noqa: F401 - regime and plan: the tests read them here
    in_regime,
    plan,
    regime,
    stop_note,
)

CLAIM = "tower_colour"
KEEP_INIT = ["+callbacks.initial_weights._target_=alexnet.callbacks.initial_weights.InitialWeights"]
CONV1 = "features.0.weight"
STATES = ("change W - W0", "init W0", "trained W")


def seed_rows(seed: int, weight: torch.Tensor, init: torch.Tensor) -> list[dict[str, object]]:
    """One seed's rows: per state (the change, the init, the trained weights) and tower, its
    kernels' mean chroma share; the state's tower gap and random-halves gap; per tower how far
    training moved it (moved: ||W - W0|| / ||W0||)."""
    rows = []
    moved = relative_change(weight, init)
    for state, kernels in zip(STATES, (weight - init, init, weight)):
        shares = chroma_share(kernels)
        gap, null = towers_gap(shares), random_halves_gap(shares, seed=seed)
        for tower, part in enumerate(shares.reshape(2, -1)):
            rows.append(
                {
                    "seed": seed,
                    "state": state,
                    "tower": tower + 1,
                    "mean chroma share": round(float(part.mean()), 6),
                    "towers gap": round(gap, 6),
                    "random halves gap": round(null, 6),
                    "moved": round(moved[tower], 6),
                }
            )
    return rows


def measure(out: Path) -> list[dict[str, object]]:
    """towers.csv: every completed run's rows; filters.png: the first run's W - W0."""
    rows: list[dict[str, object]] = []
    runs = sorted(
        (r for r in load_runs(out / "sweep") if r.record.get("status") == "completed"),
        key=lambda r: r.config["seed"],
    )
    for index, run in enumerate(runs):
        path = resolve_checkpoint(run.path)
        module = AlexNetModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
        init = initial_weights(torch.load(path, map_location="cpu", weights_only=True))[CONV1]
        weight = module.model.features[0].weight.detach()
        reached = {"epochs": len(run.history), "val top-1": run.metrics.get("val/acc1")}
        rows += [{**row, **reached} for row in seed_rows(int(run.config["seed"]), weight, init)]
        if index == 0:
            with torch.no_grad():
                module.model.features[0].weight.sub_(init)  # draw the change, not W
            AlexNetVisualizer(module.model).plot_conv_filters(
                "conv1", weight.shape[0], path=out / "filters.png", show=False
            )
    write_table(rows, out / "towers")
    return rows


def read_towers(path: Path) -> list[dict[str, object]]:
    with path.open(newline="") as handle:
        return [
            {k: (v if k == "state" else float(v) if v else None) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]


def by_state(rows: list[dict[str, object]]) -> dict[str, dict[int, list[dict[str, object]]]]:
    """state -> seed -> its two tower rows, the greyer (by that state's chroma share) first."""
    grouped: dict[str, dict[int, list[dict[str, object]]]] = {}
    for row in rows:
        grouped.setdefault(str(row["state"]), {}).setdefault(int(row["seed"]), []).append(row)
    return {
        state: {
            seed: sorted(pair, key=lambda r: r["mean chroma share"]) for seed, pair in seeds.items()
        }
        for state, seeds in grouped.items()
    }


def report(source: Path, out: Path) -> Measured | None:
    """tower_colour.md/.csv and effect.json from `source`'s towers.csv."""
    declared = claim(CLAIM)
    states = by_state(read_towers(source / "towers.csv"))
    table = []
    for state, seeds in states.items():
        pairs = list(seeds.values())
        table.append(
            {
                "weights": state,
                "seeds": len(pairs),
                "greyer tower: chroma share": str(
                    mean_ci([p[0]["mean chroma share"] for p in pairs])
                ),
                "more colourful tower": str(mean_ci([p[1]["mean chroma share"] for p in pairs])),
                "towers gap": str(mean_ci([p[0]["towers gap"] for p in pairs])),
                "random halves gap": str(mean_ci([p[0]["random halves gap"] for p in pairs])),
                "moved ‖W - W0‖ / ‖W0‖, greyer / more colourful": (
                    f"{mean_ci([p[0]['moved'] for p in pairs])} / "
                    f"{mean_ci([p[1]['moved'] for p in pairs])}"
                    if state == STATES[0]
                    else ""
                ),
            }
        )
    write_table(table, out / "tower_colour")
    provenance = read_provenance(out) or read_provenance(source) or {}
    change, removed = in_regime(states.get(STATES[0], {}), provenance.get("target_val_acc1"))
    result = None
    runs = load_runs(source)
    removed.update(  # a failed or diverged run: removed and counted (claims.yaml's runs rule)
        {
            str(seed_of(r)): f"the run {r.record.get('status')}: {r.record.get('error', '')}"
            for r in runs
            if r.record.get("status") != "completed"
        }
    )
    data = runs[0].task if runs else "?"
    if change:
        result = measured(
            CLAIM,
            {s: p[0]["towers gap"] for s, p in change.items()},
            {s: p[0]["random halves gap"] for s, p in change.items()},
            "chroma share",
            data,
            provenance.get("size", "?"),
            removed=removed,
        )
        write_effect(out, result)
    text = (
        "# The paper's Figure 3: colour per tower in conv1, in what training changed\n\n"
        + provenance_markdown(provenance or None)
        + f"\nClaim `{CLAIM}` (experiments/claims.yaml): {declared.metric}; the effect is the "
        "towers' gap minus the gap of random halves of the same kernels (no towers), "
        "paired by seed. Chroma share: the fraction of a kernel's energy off the luminance "
        "axis (0 grey, 2/3 random weights, 1 pure colour). Per seed the towers are ranked "
        "greyer / more colourful; mean ± 95% CI over seeds. The paper (ImageNet, 90 epochs):"
        " one tower largely colour-agnostic, the other colour-specific.\n\n"
        + effect_line(result)
        + "\n\n"
        + stop_note(states.get(STATES[0], {}), provenance.get("target_val_acc1"), removed)
        + markdown_table(table)
        + "\n![conv1's change from its init, W - W0, first seed, one block per tower]"
        "(filters.png)\n"
    )
    (out / "tower_colour.md").write_text(text)
    print(text)
    print(f"Wrote {out}")
    return result


def effect_line(measured: Measured | None) -> str:
    return effect_sentence(measured, "Towers gap - random halves gap")


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("tower_colour", __doc__.splitlines()[0])
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "tower_colour")
        if out.resolve() != source.resolve():
            for file in ("towers.csv", "filters.png"):
                (out / file).write_bytes((source / file).read_bytes())
        report(source, out)
        return out
    require_data_at_full(args, full_data("tower_colour"))
    out = output_dir("tower_colour", args.out)
    planned, seeds, target = plan(args.size, args.data, args.data_root)
    run_sweep(
        [*planned, *KEEP_INIT, *overrides],
        out,
        args.seeds or seeds,
        extra={"size": args.size, "target_val_acc1": target},
    )
    measure(out)
    report(out, out)
    return out


if __name__ == "__main__":
    main()
