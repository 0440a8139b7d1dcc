"""Choose the claims' reference recipe by the rule declared before any run (issue 32, item 1).

    python -m experiments.reference_recipe [--size cpu|tiny] [--out DIR] [--only R0 R1 ...]
    python -m experiments.reference_recipe --report DIR [--out OUT]   # re-make the page

Reads experiments/declarations/reference_recipe_v1.yaml (the candidates, the selection seeds,
the dead-unit gate and the rule), trains the reference arm of every candidate on every
selection seed with the training probe on, and applies the rule in `choose`, which sees only
the gate's measures (each layer's dead fraction at the last probe, the final val/acc1 and the
run's status). Writes selection.md and selection.json beside runs.json and provenance.json.
`--size tiny` is for the tests: the page says so and nothing is chosen from it.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import yaml

from alexnet.tables import markdown_table
from experiments.lab.harness import output_dir, report_dirs, size_overrides
from experiments.lab.provenance import (
    collect,
    git_state,
    provenance_markdown,
    read_provenance,
    write_provenance,
)
from experiments.lab.runs import Run, launch_multirun, load_runs, write_summary

DECLARATION = Path(__file__).resolve().parent / "declarations" / "reference_recipe_v1.yaml"
PROBE = {"tiny": (4, 12), "cpu": (100, 500)}  # every N steps, on M training images
TASK = "synthetic_hard_v1"  # what data=synthetic_hard was when v1 was declared (hard-v1)
TINY_FIXED = ("trainer.max_epochs=", "trainer.check_val_every_n_epoch=")  # the tiny size's own


def declared() -> dict[str, Any]:
    return yaml.safe_load(DECLARATION.read_text())


def gate_measures(run: Run) -> dict[str, Any]:
    """What the rule may see of one run: its status, final val/acc1 and the worst layer's dead
    fraction at the last probe (with every layer's)."""
    probe = (run.record.get("probe") or [{}])[-1]
    dead = probe.get("dead") or {}
    return {
        "seed": run.config.get("seed"),
        "status": run.record.get("status"),
        "val_acc1": run.metrics.get("val/acc1"),
        "dead": dead,
        "worst_dead": max(dead.values()) if dead else None,
    }


def choose(measures: dict[str, list[dict[str, Any]]], spec: dict[str, Any]) -> dict[str, Any]:
    """The declared rule over {candidate: [per-seed measures]}, candidates in declared order."""
    gate, seeds = 0.10, len(spec["selection_seeds"])
    rows = {}
    for name in spec["candidates"]:
        runs = measures.get(name, [])
        complete = len(runs) == seeds and all(
            r["status"] == "completed" and r["worst_dead"] is not None and r["val_acc1"] is not None
            for r in runs
        )
        accuracy = math.fsum(r["val_acc1"] for r in runs) / seeds if complete else None
        alive = complete and all(r["worst_dead"] <= gate for r in runs)
        rows[name] = {
            "mean_val_acc1": accuracy,
            "worst_dead": max((r["worst_dead"] or 1.0) for r in runs) if runs else None,
            "passes": bool(alive and accuracy is not None and accuracy >= 0.20),
        }
    passing = [name for name, row in rows.items() if row["passes"]]
    best = max((rows[n]["mean_val_acc1"] for n in passing), default=None)
    chosen = next((n for n in passing if best - rows[n]["mean_val_acc1"] <= 0.005), None)
    return {"candidates": rows, "chosen": chosen}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(PROBE), default="cpu")
    parser.add_argument("--out")
    parser.add_argument("--only", nargs="+", help="these candidates only (a test's shortcut)")
    parser.add_argument("--report", type=Path, help="re-make the page of this dir; no training")
    args = parser.parse_args(argv)
    spec = declared()
    if args.report:
        source, out = report_dirs(args, "reference_recipe")  # copies runs and provenance
        runs = load_runs(source)
        by_name = {n: [r for r in runs if r.path.parent.name == n] for n in spec["candidates"]}
        write_page(out, by_name, spec, args.size)
        return out
    out = output_dir("reference_recipe", args.out)
    every, images = PROBE[args.size]
    fixed = [o for o in spec["fixed"] if args.size != "tiny" or not o.startswith(TINY_FIXED)]
    seeds = ",".join(str(s) for s in spec["selection_seeds"])
    git, started, by_name = git_state(exclude=out), time.perf_counter(), {}
    for name, recipe in spec["candidates"].items():
        if args.only and name not in args.only:
            continue
        launch_multirun(
            [
                *size_overrides(args.size, data=TASK),
                f"ablation={spec['arm']}",
                *fixed,
                *recipe,
                "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
                f"+callbacks.training_probe.every_n_steps={every}",
                f"+callbacks.training_probe.images={images}",
                f"seed={seeds}",
            ],
            out / "sweeps" / name,
        )
        by_name[name] = load_runs(out / "sweeps" / name)
    write_summary(by_name, out)
    record = collect(spec["selection_seeds"], time.perf_counter() - started, git=git, out=out)
    write_provenance(out, {**record, "size": args.size, "declaration": str(DECLARATION.name)})
    write_page(out, by_name, spec, args.size)
    return out


def write_page(out: Path, by_name: dict[str, list[Run]], spec: dict[str, Any], size: str) -> None:
    measures = {name: [gate_measures(r) for r in runs] for name, runs in by_name.items()}
    result = choose(measures, spec)
    (out / "selection.json").write_text(json.dumps({**result, "measures": measures}, indent=1))
    rows = [
        {
            "candidate": name,
            "recipe": " ".join(spec["candidates"][name]),
            "mean val/acc1": shown(row["mean_val_acc1"], 3),
            "worst dead fraction": shown(row["worst_dead"], 3),
            "passes the gate": "yes" if row["passes"] else "no",
        }
        for name, row in result["candidates"].items()
    ]
    note = " (the tests' tiny size: nothing is chosen from it)" if size == "tiny" else ""
    (out / "selection.md").write_text(
        f"# The reference recipe, chosen by {DECLARATION.name}{note}\n\n"
        + markdown_table(rows)
        + f"\n\nChosen: **{result['chosen'] or 'none: the selection failed'}**\n\n"
        + provenance_markdown(read_provenance(out))
    )


def shown(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    main()
