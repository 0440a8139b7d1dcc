"""Experiment 5, ReLU against tanh: the paper's Figure 1, measured with the framework.

    python experiments/relu_vs_tanh.py [--size tiny|cpu|full] [--target-error 0.25]
                                       [--data-root PATH] [--out DIR] [hydra overrides ...]
    python experiments/relu_vs_tanh.py --report DIR    # re-make the report, no training

The paper: a four-layer CNN with ReLUs reached 25% training error on CIFAR-10 six times faster
than the same network with tanh. Here: one Hydra multirun `activation=relu,tanh` (no dropout,
SGD with momentum, as the paper; He init), on the synthetic data or on the ImageFolder at
--data-root.
The training error of each epoch comes from the runs' own metrics.json. Writes
relu_vs_tanh.md/.csv and relu_vs_tanh.png, and prints the measured ratio beside the paper's 6x.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from alexnet.experiment_args import experiment_parser, output_dir, size_overrides
from alexnet.sweeps import Run, launch_multirun, load_runs, sweep_of
from alexnet.tables import write_table

PAPER_RATIO = 6.0
EPOCHS = {"tiny": 2, "cpu": 25, "full": 40}
# SGD with momentum, no weight decay or dropout, constant lr; He init with each activation's
# gain (PyTorch's default init shrinks the signal at every ReLU layer and slows ReLU down).
SETUP = ["optimizer=sgd", "optimizer.lr=0.01", "optimizer.weight_decay=0", "schedule=constant",
         "dropout=none", "model.init=kaiming"]


def training_errors(run: Run) -> list[float]:
    """1 - training top-1 of each epoch."""
    return [1 - entry["train/acc1"] for entry in run.history if "train/acc1" in entry]


def epochs_to(errors: list[float], target: float) -> float | None:
    """Epochs (fractional, linearly interpolated) until the training error first reaches
    `target`; None if it never does."""
    previous = 1.0  # before any training: treat the error as 100%
    for epoch, error in enumerate(errors, start=1):
        if error <= target:
            return epoch - 1 + (previous - target) / max(previous - error, 1e-12)
        previous = error
    return None


def rows(runs: list[Run], target: float) -> tuple[list[dict[str, object]], float | None]:
    """One row per activation, and the tanh/relu ratio of epochs to the target error."""
    table, reached = [], {}
    for run in runs:
        name = run.config["activation"]["name"]
        errors = training_errors(run)
        epochs = epochs_to(errors, target)
        reached[name] = epochs
        table.append({"activation": name, f"epochs_to_{target:g}_train_error": epochs,
                      "final_train_error": errors[-1] if errors else None,
                      "final_val_acc1": run.metrics.get("val/acc1"), "epochs_run": len(errors),
                      "wall_time_s": run.record.get("wall_time_s")})
    relu, tanh = reached.get("relu"), reached.get("tanh")
    ratio = tanh / relu if relu and tanh else None
    return table, ratio


def curves_figure(runs: list[Run], target: float) -> Figure:
    """Training error per epoch, ReLU and tanh, with the target line (the paper's Figure 1)."""
    figure = Figure(figsize=(7, 4.8))
    axes = figure.subplots()
    styles = {"relu": "-", "tanh": "--"}
    for run in runs:
        name = run.config["activation"]["name"]
        errors = training_errors(run)
        axes.plot(range(1, len(errors) + 1), errors, styles.get(name, ":"), marker="o",
                  label=name)
    axes.axhline(target, color="grey", lw=0.8)
    axes.set_xlabel("epochs")
    axes.set_ylabel("training error rate")
    axes.set_ylim(0, 1)
    axes.set_title("ReLU against tanh (Krizhevsky et al. 2012, Figure 1)")
    axes.legend()
    figure.tight_layout()
    return figure


def report(sweep_dir: Path, out: Path, target: float) -> float | None:
    """Write the table and figure of `sweep_dir`; print and return the tanh/relu ratio."""
    runs = load_runs(sweep_dir)
    table, ratio = rows(runs, target)
    print(write_table(table, out / "relu_vs_tanh"))
    curves_figure(runs, target).savefig(out / "relu_vs_tanh.png", dpi=110)
    measured = f"{ratio:.2f}x" if ratio else "not measurable (a run never reached the target)"
    line = (f"epochs to {target:.0%} training error, tanh / relu: {measured} "
            f"(paper: {PAPER_RATIO:g}x on CIFAR-10)")
    (out / "ratio.txt").write_text(line + "\n")
    print(line)
    print(f"Wrote {out}")
    return ratio


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("relu_vs_tanh", __doc__.splitlines()[0])
    parser.add_argument("--target-error", type=float, default=0.25)
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        report(sweep_of(args.report), args.report, args.target_error)
        return args.report
    out = output_dir("relu_vs_tanh", args.out)
    launch_multirun([*size_overrides(args.size, args.data_root),
                     f"trainer.max_epochs={EPOCHS[args.size]}", *SETUP, "activation=relu,tanh",
                     *overrides], out / "sweep")
    report(out / "sweep", out, args.target_error)
    return out


if __name__ == "__main__":
    main()
