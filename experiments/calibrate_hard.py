"""Calibrate the hard synthetic task on the reference model only, by a declared rule.

    python -m experiments.calibrate_hard [--declaration FILE] [--out DIR] [hydra overrides ...]
    python -m experiments.calibrate_hard --report DIR [--out OUT]   # re-make the report

The rule is a declaration under experiments/declarations/ (hard_calibration_v2.yaml by default;
v1 records how hard-v1 was calibrated), committed before its runs and applied by `choose` below,
never to an ablation arm's outcome:
1. the claims' reference arm at the cpu size (the declaration's `reference`, verbatim) trains on
   `data=synthetic_hard` at each candidate training-set size (`candidates`, images per class),
   on the declaration's `seeds` (seed= and data.seed=: images and a validation split of their
   own);
2. a size qualifies when every seed completed, the mean training accuracy (the model in eval
   mode on 500 un-augmented training images, at the end) is at least `fit` and the mean
   validation top-1 (2,500 images) lies in `val_range`;
3. the largest qualifying size is chosen; none qualifying is a failed calibration.
Writes calibration.md/.csv, runs.json and provenance.json (which names the declaration).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from alexnet.tables import markdown_table, write_table
from experiments.lab.harness import output_dir, report_dirs, run_sweep
from experiments.lab.provenance import (
    ROOT,
    first_commit,
    provenance_markdown,
    read_provenance,
)
from experiments.lab.runs import Run, load_runs
from experiments.lab.stats import mean_ci

DECLARATIONS = Path(__file__).resolve().parent / "declarations"
DEFAULT = "hard_calibration_v2.yaml"
LEGACY = "hard_calibration_v1.yaml"  # hard-v1's own runs name no declaration
PROBE = [
    "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
    "+callbacks.training_probe.every_n_steps=100",
    "+callbacks.training_probe.images=500",
]


def declared(name: str) -> dict[str, Any]:
    return yaml.safe_load((DECLARATIONS / name).read_text())


# Before the rule ran, the task's drawing was settled on the reference model alone (no ablation
# arm): each draft's run records (metrics.json) are kept in the result's drafts.json, under names
# that start with these prefixes.
DRAFTS = {
    "draft0": "the first drawing: 1-3 distractors (striped ones too), an occluder in half the "
    "images, objects 0.28-0.6, complementary stripe colours, hues 30 degrees apart "
    "+-20, the seed's 5 of 6 shapes; 30 epochs",
    "draft1": "less clutter: 0-2 flat distractors, an occluder in 3 of 10 images, a softer "
    "background, colour cast and noise; 30 epochs",
    "draft2": "larger objects (0.4-0.7), hues 45 degrees apart +-27, five fixed shapes (no "
    "hexagon beside the disk); 30 epochs",
    "draft3": "stripes in the object's own hue, light and dark (complementary stripes broke "
    "the outline at 64 px), paler backgrounds: hard-v1's drawing; 30 epochs",
    "hard-v1": "hard-v1 with 60 epochs (the recipe the rule then used)",
}


def draft_rows(folder: Path) -> list[dict[str, object]]:
    """One row per kept draft run: what changed, its size, and its accuracies."""
    rows = []
    path = folder / "drafts.json"
    drafts = json.loads(path.read_text()) if path.is_file() else {}
    for name, record in sorted(drafts.items()):  # each a run's metrics.json
        probe = record.get("probe") or [{}]
        given = dict(o.split("=", 1) for o in record["overrides"] if "=" in o)
        rows.append(
            {
                "run": name,
                "draft": next((text for key, text in DRAFTS.items() if name.startswith(key)), ""),
                "train_per_class": int(given["data.train_per_class"]),
                "epochs": record["epochs"],
                "seed": int(given.get("seed", 0)),
                "train_acc (eval, un-augmented)": round(1 - probe[-1]["train_error"], 3),
                "val_acc1": record["metrics"]["val/acc1"],
            }
        )
    return rows


def train_accuracy(run: Run) -> float | None:
    """1 - the last probe's training error (eval mode, un-augmented training images)."""
    probe = run.record.get("probe") or []
    return 1.0 - probe[-1]["train_error"] if probe else None


def rows_of(runs: list[Run], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per candidate size: training and validation accuracy over the seeds."""
    fit, (low, high) = spec["fit"], spec["val_range"]
    by_size: dict[int, list[Run]] = {}
    failed: dict[int, int] = {}
    for run in runs:
        size = int(run.config["data"]["train_per_class"])
        if run.record.get("status") == "completed":
            by_size.setdefault(size, []).append(run)
        else:
            failed[size] = failed.get(size, 0) + 1
    rows = []
    for size in sorted(set(by_size) | set(failed)):
        train = [train_accuracy(run) for run in by_size.get(size, [])]
        val = [run.metrics["val/acc1"] for run in by_size.get(size, [])]
        mean_train = sum(train) / len(train) if train else 0.0
        mean_val = sum(val) / len(val) if val else 0.0
        row = {
            "train_per_class": size,
            "seeds": len(val),
            "train_acc (eval, un-augmented)": str(mean_ci(train)) if train else "n/a",
            "val_acc1": str(mean_ci(val)) if val else "n/a",
            "fits": mean_train >= fit,
            "val in range": low <= mean_val <= high,
            "mean_train": mean_train,
            "mean_val": mean_val,
        }
        if spec.get("declared_before_runs"):  # v2's rule: every seed completed
            row["runs failed"] = failed.get(size, 0)
            row["complete"] = not failed.get(size) and len(val) == len(spec["seeds"])
        rows.append(row)
    return rows


def choose(rows: list[dict[str, Any]]) -> int | None:
    """The rule's choice: the largest size that fits and whose validation is in range (and, where
    the declaration asks it, whose every seed completed)."""
    qualifying = [
        row["train_per_class"]
        for row in rows
        if row["fits"] and row["val in range"] and row.get("complete", True)
    ]
    return max(qualifying) if qualifying else None


def declaration_of(folder: Path) -> str:
    record = read_provenance(folder) or {}
    return str(record.get("declaration", LEGACY))


def report(source: Path, out: Path) -> int | None:
    name = declaration_of(source)
    spec = declared(name)
    rows = rows_of(load_runs(source), spec)
    chosen = choose(rows)
    shown = [{k: v for k, v in row.items() if not k.startswith("mean_")} for row in rows]
    write_table(shown, out / "calibration")
    verdict = (
        f"Chosen: train_per_class={chosen} (conf/data/synthetic_hard.yaml)."
        if chosen
        else "No candidate qualifies: the calibration failed, nothing is chosen."
    )
    fit, (low, high) = spec["fit"], spec["val_range"]
    rule = (
        f"the largest training set whose reference model reaches a mean training accuracy "
        f">= {fit:g} while its mean validation top-1 lies in [{low:g}, {high:g}]"
    )
    if spec.get("declared_before_runs"):
        text = (
            f"# Calibration of the hard synthetic task (declaration v{spec['version']})\n\n"
            + provenance_markdown(read_provenance(out) or read_provenance(source))
            + f"\nThe rule (experiments/declarations/{name}, committed before the runs): "
            f"{rule}, every seed completed. Candidates, all run: "
            f"{', '.join(str(c) for c in spec['candidates'])} images per class; seeds "
            f"{spec['seeds']} (their own images and validation split). The reference model: "
            f"{' '.join(spec['reference'])}.\n\n"
            + markdown_table(shown)
            + f"\n{verdict}\n\n"
            + commits_line(name, source)
            + f"\nSeen before the declaration: {spec['seen_before'].strip()}\n"
        )
    else:
        text = (
            "# Calibration of the hard synthetic task (hard-v1)\n\n"
            + provenance_markdown(read_provenance(out) or read_provenance(source))
            + f"\nThe rule (then in experiments/calibrate_hard.py; written down after the runs "
            f"in experiments/declarations/{name}, which says what was seen first): {rule}. "
            f"The reference model: {' '.join(spec['reference'])}."
            "\n\n" + markdown_table(shown) + f"\n{verdict}\n"
        )
        drafts = draft_rows(source)
        if drafts:
            text += (
                "\nBefore the rule ran, the task's drawing was settled on this reference model "
                "alone (never on an ablation arm), in drafts of alexnet/data/synthetic_hard.py "
                "that were not committed (each described below); their runs' records (each "
                "run's metrics.json) are in drafts.json:\n\n" + markdown_table(drafts)
            )
    (out / "calibration.md").write_text(text)
    print(text)
    return chosen


def shown_commit(commit: str | None) -> str:
    return f"`{commit[:10]}`" if commit else "not committed yet"


def commits_line(name: str, out: Path) -> str:
    """The declaring commit and the first result's (the commit order is the proof)."""
    declared_in = first_commit(DECLARATIONS / name)
    runs = out.resolve() / "runs.json"
    result = first_commit(runs) if runs.is_relative_to(ROOT.resolve()) else None
    return (
        f"Declared at commit {shown_commit(declared_in)}; first result committed at "
        f"{shown_commit(result)}.\n"
    )


def main(argv: list[str] | None = None) -> Path:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--declaration", default=DEFAULT, help=f"under {DECLARATIONS.name}/")
    parser.add_argument("--out", help="output dir (default: logs/experiments/...)")
    parser.add_argument("--report", type=Path, help="re-make the report of this dir; no training")
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "calibrate_hard")
        report(source, out)
        return out
    spec = declared(args.declaration)
    out = output_dir("calibrate_hard", args.out)
    sizes = ",".join(str(size) for size in spec["candidates"])
    run_sweep(
        [
            "data=synthetic_hard",
            *spec["reference"],
            *PROBE,
            f"data.train_per_class={sizes}",
            *overrides,
            f"seed={','.join(str(s) for s in spec['seeds'])}",
        ],
        out,
        1,
        extra={"declaration": args.declaration, "seeds": spec["seeds"]},
    )
    report(out, out)
    return out


if __name__ == "__main__":
    main()
