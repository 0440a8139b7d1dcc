"""Experiment 4, ablation study: the seed's four configurations and three of the paper's choices.

    python experiments/ablation.py [--size tiny|cpu|full] [--out DIR] [--target 0.6]
                                   [--parallel N] [--data-root PATH] [hydra overrides ...]
    python experiments/ablation.py --report DIR     # re-make the report, no training

One Hydra multirun over the `ablation` config group: full (ReLU, dropout 0.5), tanh, no_dropout,
tanh_no_dropout (the seed's four), lrn (on), non_overlapping_pool, augment (the paper's). Each
job is a real `python train.py` run with its own dir, TensorBoard logs and metrics.json; the
report reads those files only. Writes ablation.md/.csv and ablation.png under DIR.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from alexnet.experiment_args import experiment_parser, output_dir, size_overrides
from alexnet.sweeps import Run, launch_multirun, load_runs, sweep_of
from alexnet.tables import write_table

ARMS = ("full", "tanh", "no_dropout", "tanh_no_dropout", "lrn", "non_overlapping_pool", "augment")
EPOCHS = {"tiny": 2, "cpu": 10, "full": 30}
EXTRA = {"tiny": ["optimizer.lr=1e-3"], "cpu": ["optimizer.lr=1e-3"], "full": []}


def row(run: Run, target: float) -> dict[str, object]:
    """One arm: its knobs, final metrics, steps to the target accuracy and wall time."""
    config, metrics = run.config, run.metrics
    reached = run.first("val/acc1", target)
    return {
        "arm": run.record.get("choices", {}).get("ablation") or run.path.name,
        "activation": config["activation"]["name"], "dropout": config["dropout"]["p"],
        "lrn": bool(config["model"].get("lrn")),
        "pooling": config["model"].get("pooling") or "overlapping",
        "augment": config["data"]["augment"],
        "train_loss": metrics.get("train/loss"), "train_acc1": metrics.get("train/acc1"),
        "val_loss": metrics.get("val/loss"), "val_acc1": metrics.get("val/acc1"),
        f"steps_to_val_acc1>={target:g}": reached["step"] if reached else None,
        "epochs": len(run.history), "wall_time_s": run.record.get("wall_time_s"),
    }


def ablation_figure(rows: list[dict[str, object]], target: float) -> Figure:
    """Final train/val top-1 per arm (left) and steps to the target accuracy (right)."""
    figure = Figure(figsize=(13, 4.8))
    left, right = figure.subplots(1, 2)
    arms = [str(r["arm"]) for r in rows]
    positions = range(len(arms))
    left.bar([p - 0.2 for p in positions], [r["train_acc1"] or 0 for r in rows], 0.4,
             label="train")
    left.bar([p + 0.2 for p in positions], [r["val_acc1"] or 0 for r in rows], 0.4,
             label="validation")
    left.set_ylabel("final top-1 accuracy")
    left.set_ylim(0, 1)
    left.legend()
    steps = [r[f"steps_to_val_acc1>={target:g}"] for r in rows]
    right.bar(positions, [s if s is not None else 0 for s in steps], 0.6, color="tab:green")
    for position, value in zip(positions, steps):
        if value is None:
            right.text(position, 0, "not\nreached", ha="center", va="bottom", fontsize=8)
    right.set_ylabel(f"optimizer steps to val top-1 >= {target:g}")
    for axes in (left, right):
        axes.set_xticks(list(positions), arms, rotation=30, ha="right")
    figure.suptitle("AlexNet ablations")
    figure.tight_layout()
    return figure


def report(sweep_dir: Path, out: Path, target: float) -> list[dict[str, object]]:
    """Write the table and the figure from the runs of `sweep_dir`."""
    rows = [row(run, target) for run in load_runs(sweep_dir)]
    print(write_table(rows, out / "ablation"))
    ablation_figure(rows, target).savefig(out / "ablation.png", dpi=110)
    print(f"Wrote {out}")
    return rows


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("ablation", __doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.6, help="val top-1 to count steps to")
    parser.add_argument("--parallel", type=int, default=1, help="jobs at once (joblib launcher)")
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        report(sweep_of(args.report), args.report, args.target)
        return args.report
    out = output_dir("ablation", args.out)
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.parallel}"]
    launch_multirun([*size_overrides(args.size, args.data_root),
                     f"trainer.max_epochs={EPOCHS[args.size]}",
                     *EXTRA[args.size], *(launcher if args.parallel > 1 else []),
                     f"ablation={','.join(ARMS)}", *overrides], out / "sweep")
    report(out / "sweep", out, args.target)
    return out


if __name__ == "__main__":
    main()
