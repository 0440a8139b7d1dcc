"""Experiment 5, ReLU against tanh: the paper's Figure 1, with the paper's protocol.

    python experiments/relu_vs_tanh.py [--size tiny|cpu|full] [--seeds N] [--target-error 0.25]
                                       [--data NAME] [--data-root PATH] [--out DIR]
                                       [hydra overrides ...]
    python experiments/relu_vs_tanh.py --report DIR [--out OUT]   # re-make the report

The paper: "a four-layer convolutional neural network with ReLUs reaches a 25% training error
rate on CIFAR-10 six times faster than an equivalent network with tanh neurons. The learning
rates for each network were chosen independently to make training as fast as possible. No
regularization of any kind was employed." Here, as there:
1. the `four_layer` preset (three convs and a linear layer) on 32-pixel images (CIFAR's size),
   no dropout, no weight decay, no augmentation, SGD with momentum 0.9 and a constant learning
   rate, He init;
2. a learning-rate sweep per activation (seed 0): each activation keeps the rate that reaches
   the target training error in the fewest epochs;
3. fresh seeds 1..N at each activation's own rate (not seed 0 again: the sweep's winner would
   be a lucky draw); epochs to the target (fractional, interpolated), mean ± 95% CI, and the
   tanh/ReLU ratio per seed pair (the same seed: the same data and shuffles).
On the synthetic data by default; `--data cifar10` reads CIFAR-10 (from data/cifar10, or
--data-root), downloading it on first use. Writes relu_vs_tanh.md/.csv, lr_sweep.md/.csv,
relu_vs_tanh.png, runs.json and provenance.json.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from matplotlib.figure import Figure

from alexnet.experiment_args import (
    experiment_parser,
    output_dir,
    report_dirs,
    seeds_of,
    size_overrides,
)
from alexnet.provenance import (
    collect,
    git_state,
    provenance_markdown,
    read_provenance,
    write_provenance,
)
from alexnet.stats import mean_ci
from alexnet.sweeps import Run, launch_multirun, load_runs, write_summary
from alexnet.tables import markdown_table, write_table

PAPER_RATIO = 6.0
ACTIVATIONS = ("relu", "tanh")
LEARNING_RATES = {"tiny": (0.01, 0.03), "cpu": (0.003, 0.01, 0.03, 0.1),
                  "full": (0.001, 0.003, 0.01, 0.03, 0.1)}
EPOCHS = {"tiny": 2, "cpu": 12, "full": 40}
SETUP = ["model=four_layer", "model.init=kaiming", "dropout=none", "optimizer=sgd",
         "optimizer.momentum=0.9", "optimizer.weight_decay=0", "schedule=constant",
         "data.augment=none", "test=false", "callbacks=none"]


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


def stage(run: Run) -> str:
    return str(run.path.parent)


def activation(run: Run) -> str:
    return run.config["activation"]["name"]


def learning_rate(run: Run) -> float:
    return float(run.config["optimizer"]["lr"])


def choose_rates(sweep: list[Run], target: float) -> tuple[dict[str, float], list[dict]]:
    """Each activation's fastest rate (fewest epochs to target; ties and misses: the lowest
    final training error), and the sweep's table."""
    table, best = [], {}
    for run in sweep:
        errors = training_errors(run)
        epochs = epochs_to(errors, target)
        key = (epochs if epochs is not None else math.inf, errors[-1] if errors else 1.0)
        name = activation(run)
        if name not in best or key < best[name][0]:
            best[name] = (key, learning_rate(run))
        table.append({"activation": name, "lr": learning_rate(run),
                      f"epochs_to_{target:g}_train_error": epochs,
                      "final_train_error": errors[-1] if errors else None})
    chosen = {name: lr for name, (_, lr) in best.items()}
    for row in table:
        rates = [r["lr"] for r in table if r["activation"] == row["activation"]]
        edge = row["lr"] in (min(rates), max(rates)) and len(rates) > 2
        note = " (the sweep's edge: a rate beyond it may be faster)" if edge else ""
        row["chosen"] = "yes" + note if chosen[row["activation"]] == row["lr"] else ""
    return chosen, table


def seed_rows(runs: list[Run], target: float) -> tuple[list[dict], dict[int, dict[str, float]]]:
    """One row per activation (mean ± CI over seeds), and epochs to target per seed."""
    per_seed: dict[int, dict[str, float]] = {}
    rows = []
    for name in ACTIVATIONS:
        mine = [r for r in runs if activation(r) == name]
        if not mine:
            continue
        epochs = [epochs_to(training_errors(r), target) for r in mine]
        for run, value in zip(mine, epochs):
            if value is not None:
                per_seed.setdefault(int(run.config["seed"]), {})[name] = value
        reached = [e for e in epochs if e is not None]
        finals = [training_errors(r)[-1] for r in mine if training_errors(r)]
        rows.append({"activation": name, "lr": learning_rate(mine[0]), "seeds": len(mine),
                     f"epochs_to_{target:g}_train_error": str(mean_ci(reached)) if reached
                     else "not reached",
                     "reached_in": f"{len(reached)} of {len(mine)}",
                     "final_train_error": str(mean_ci(finals)) if finals else None,
                     "epochs_run": len(training_errors(mine[0]))})
    return rows, per_seed


def ratio_line(per_seed: dict[int, dict[str, float]], target: float, seeds: int) -> str:
    """tanh/ReLU epochs to the target, per seed pair, mean ± 95% CI, beside the paper's 6x;
    the pairs where one activation never reached the target are counted and named."""
    ratios = [v["tanh"] / v["relu"] for v in per_seed.values() if {"relu", "tanh"} <= set(v)]
    missing = seeds - len(ratios)
    dropped = (f" ({missing} of {seeds} seed pairs left out: an activation did not reach the "
               "target within the epochs run, so the ratio there is larger than measurable)"
               if missing else "")
    if not ratios:
        return (f"epochs to {target:.0%} training error, tanh / ReLU: not measurable (no seed "
                f"where both reached it); paper: {PAPER_RATIO:g}x on CIFAR-10")
    estimate = mean_ci(ratios)
    noise = ""
    if estimate.half_width is not None:
        low, high = estimate.mean - estimate.half_width, estimate.mean + estimate.half_width
        noise = (f"; 95% CI [{low:.2f}, {high:.2f}]: " +
                 ("ReLU is faster beyond seed noise" if low > 1 else
                  "tanh is faster beyond seed noise" if high < 1 else
                  "within seed noise of no difference"))
    return (f"epochs to {target:.0%} training error, tanh / ReLU: {estimate.mean:.2f}x over "
            f"{len(ratios)} seed pairs{dropped}{noise}; paper: {PAPER_RATIO:g}x on CIFAR-10")


def curves_figure(runs: list[Run], target: float) -> Figure:
    """Training error per epoch, each seed a thin line (the paper's Figure 1)."""
    figure = Figure(figsize=(7, 4.8))
    axes = figure.subplots()
    styles = {"relu": ("-", "tab:blue"), "tanh": ("--", "tab:orange")}
    labelled = set()
    for run in runs:
        name = activation(run)
        errors = training_errors(run)
        style, colour = styles.get(name, (":", "grey"))
        label = f"{name} (lr {learning_rate(run):g})" if name not in labelled else None
        labelled.add(name)
        axes.plot(range(1, len(errors) + 1), errors, style, color=colour, lw=1, label=label)
    axes.axhline(target, color="grey", lw=0.8)
    axes.set_xlabel("epochs")
    axes.set_ylabel("training error rate")
    axes.set_ylim(0, 1)
    axes.set_title("ReLU against tanh (Krizhevsky et al. 2012, Figure 1)")
    axes.legend()
    figure.tight_layout()
    return figure


def report(source: Path, out: Path, target: float) -> str:
    """Write the tables, figure and ratio from `source`'s runs; return the ratio line."""
    runs = load_runs(source)
    sweep = [r for r in runs if stage(r) == "lr_sweep"]
    seeded = [r for r in runs if stage(r) != "lr_sweep"]
    chosen, sweep_table = choose_rates(sweep, target)
    rows, per_seed = seed_rows(seeded, target)
    write_table(sweep_table, out / "lr_sweep")
    write_table(rows, out / "relu_vs_tanh")
    seeds = len({int(r.config["seed"]) for r in seeded})
    line = ratio_line(per_seed, target, seeds)
    text = ("# ReLU against tanh\n\n" + provenance_markdown(read_provenance(source)) +
            f"\n{line}\n\nAt each activation's own learning rate, over fresh seeds:\n\n" +
            markdown_table(rows) + "\nThe learning-rate sweep (seed 0) that chose them:\n\n" +
            markdown_table(sweep_table))
    (out / "relu_vs_tanh.md").write_text(text)
    curves_figure(seeded, target).savefig(out / "relu_vs_tanh.png", dpi=110)
    print(text)
    print(f"Wrote {out}")
    return line


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("relu_vs_tanh", __doc__.splitlines()[0])
    parser.add_argument("--target-error", type=float, default=0.25)
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "relu_vs_tanh")
        report(source, out, args.target_error)
        return out
    out = output_dir("relu_vs_tanh", args.out)
    # The protocol's own network, at CIFAR's 32 px (a named set: its native size).
    base = [o for o in size_overrides(args.size, args.data_root, args.data)
            if not o.startswith(("model=", "data.image_size="))]
    if args.data in (None, "synthetic", "imagefolder"):
        base.append("data.image_size=32")
    base += [f"trainer.max_epochs={EPOCHS[args.size]}", *SETUP, *overrides]
    git, started = git_state(exclude=out), time.perf_counter()
    rates = ",".join(f"{lr:g}" for lr in LEARNING_RATES[args.size])
    launch_multirun([*base, f"activation={','.join(ACTIVATIONS)}", f"optimizer.lr={rates}"],
                    out / "lr_sweep")
    sweep = load_runs(out / "lr_sweep")
    chosen, _ = choose_rates(sweep, args.target_error)
    seeds = seeds_of(args)
    fresh = [f"seed={','.join(str(s) for s in range(1, seeds + 1))}"]
    for name in ACTIVATIONS:
        launch_multirun([*base, f"activation={name}", f"optimizer.lr={chosen[name]:g}", *fresh],
                        out / name)
    write_summary({stage_dir: load_runs(out / stage_dir)
                   for stage_dir in ("lr_sweep", *ACTIVATIONS)}, out)
    write_provenance(out, collect(list(range(1, seeds + 1)), time.perf_counter() - started,
                                  git=git, out=out))
    report(out, out, args.target_error)
    return out


if __name__ == "__main__":
    main()
