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
   no dropout, no weight decay, no augmentation, SGD with momentum 0.9, a constant learning
   rate, no warm-up and no clipping; both activations start from the same init (PyTorch's
   default, uniform in ±1/sqrt(fan_in): no gain chosen per activation);
2. one task for every run: the data seed is fixed (DATA_SEED) and recorded; only the training
   seed (init and order) varies;
3. training error as the paper means it: the current weights in eval mode on a fixed subset of
   the un-augmented training set, every few steps (alexnet.callbacks.training_probe; not the
   running average of an epoch, which lags the weights by half an epoch); with it, the fraction
   of dead units per layer (output the same for every image) and the logits' spread. A run
   whose units all die in a layer, or whose output no longer depends on the input, is dead,
   not slow: it is never chosen;
4. a learning-rate sweep per activation on a grid of 1.41x steps meant to cross each
   activation's stability edge, each rate with two training seeds of its own (SWEEP_SEEDS, not
   among the fresh seeds below): each activation keeps the rate whose slower seed reaches the
   target training error in the fewest steps (a sweep run ends there); a rate where either
   seed died, diverged or missed the target is not chosen, so the choice is not the last rate
   before a cliff that one lucky seed crossed; a choice at the grid's edge is marked;
5. fresh seeds 1..N (5 by default) at each activation's own rate; steps and epochs to the target
   (interpolated between probes), and the tanh/ReLU ratio per seed pair (the same training
   seed), summarized on the log scale: geometric mean, 95% CI, and the smallest ratio the pairs
   could tell from 1.
On the synthetic data by default; `--data cifar10` reads CIFAR-10 (from data/cifar10, or
--data-root), downloading it on first use. Writes relu_vs_tanh.md/.csv, lr_sweep.md/.csv,
relu_vs_tanh.png, runs.json and provenance.json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from matplotlib.figure import Figure

from alexnet.reporting.claims import full_data
from alexnet.reporting.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
    require_data_at_full,
    size_overrides,
)
from alexnet.reporting.provenance import (
    collect,
    git_state,
    provenance_markdown,
    read_provenance,
    write_provenance,
)
from alexnet.reporting.runs import Run, launch_multirun, load_runs, write_summary
from alexnet.reporting.tables import markdown_table, write_table

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules, however loaded

from relu_vs_tanh_ratio import ratio_line, write_relu_effect  # noqa: E402
from relu_vs_tanh_runs import (  # noqa: E402
    ACTIVATIONS,
    activation,
    choose_rates,
    learning_rate,
    seed_rows,
    stage,
    steps_per_epoch,
    training_errors,
)

GRID = tuple(round(0.005 * 2 ** (k / 2), 5) for k in range(9))  # 0.005 .. 0.08, x1.41
LEARNING_RATES = {"tiny": (0.01, 0.03), "cpu": GRID, "full": GRID}
EPOCHS = {"tiny": 2, "cpu": 12, "full": 40}
SEEDS = {"tiny": 1, "cpu": 5, "full": 5}
DATA_SEED = 0
SWEEP_SEEDS = (0, 99)  # the rate sweep's training seeds; the fresh seeds are 1..N
# Probe every N steps on M un-augmented training images (cpu: 20 steps an epoch).
PROBE = {"tiny": (1, 18), "cpu": (4, 500), "full": (50, 2000)}
SETUP = [
    "model=four_layer",
    "model.init=default",
    "dropout=none",
    "optimizer=sgd",
    "optimizer.momentum=0.9",
    "optimizer.weight_decay=0",
    "schedule=constant",
    "data.augment=none",
    f"data.seed={DATA_SEED}",
    "test=false",
    "callbacks=none",
]


def probe_overrides(size: str) -> list[str]:
    every, images = PROBE[size]
    return [
        "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
        f"+callbacks.training_probe.every_n_steps={every}",
        f"+callbacks.training_probe.images={images}",
    ]


def curves_figure(runs: list[Run], target: float) -> Figure:
    """Training error (eval mode, un-augmented) against epochs, each seed a thin line (the
    paper's Figure 1)."""
    figure = Figure(figsize=(7, 4.8))
    axes = figure.subplots()
    styles = {"relu": ("-", "tab:blue"), "tanh": ("--", "tab:orange")}
    labelled = set()
    for run in runs:
        name = activation(run)
        points, per_epoch = training_errors(run), steps_per_epoch(run) or 1
        style, colour = styles.get(name, (":", "grey"))
        label = f"{name} (lr {learning_rate(run):g})" if name not in labelled else None
        labelled.add(name)
        axes.plot(
            [step / per_epoch for step, _ in points],
            [error for _, error in points],
            style,
            color=colour,
            lw=1,
            label=label,
        )
    axes.axhline(target, color="grey", lw=0.8)
    axes.set_xlabel("epochs")
    axes.set_ylabel("training error rate (eval mode, no augmentation)")
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
    write_relu_effect(out, per_seed, runs, read_provenance(out) or read_provenance(source) or {})
    data_seeds = sorted({r.config["data"]["seed"] for r in runs})
    sweep_seeds = sorted({int(r.config["seed"]) for r in sweep})
    made = provenance_markdown(read_provenance(out) or read_provenance(source))
    text = (
        "# ReLU against tanh\n\n"
        + made
        + f"\n{line}\n\nOne task for every run: data seed {', '.join(map(str, data_seeds))}; "
        "the training seeds vary init and order. Both activations: PyTorch's default init, "
        "no warm-up, no clipping, no regularization. Training error: eval mode on a fixed "
        "un-augmented subset of the training set.\n\nAt each activation's own learning "
        "rate, over fresh training seeds:\n\n"
        + markdown_table(rows)
        + "\nThe learning-rate sweep that chose them (training seeds "
        f"{', '.join(str(seed) for seed in sweep_seeds)}); dead units per layer (act1 / act2 "
        "/ ...) at the end of each run; the chosen rate is the one whose slower seed reached "
        "the target first, and a rate with a dead or diverged seed is never chosen:\n\n"
        + markdown_table(sweep_table)
    )
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
    require_data_at_full(args, full_data("relu_speed"))
    out = output_dir("relu_vs_tanh", args.out)
    # The protocol's own network, at CIFAR's 32 px (a named set: its native size).
    base = [
        o
        for o in size_overrides(args.size, args.data_root, args.data)
        if not o.startswith(("model=", "data.image_size="))
    ]
    if args.data in (None, "synthetic", "imagefolder"):
        base.append("data.image_size=32")
    base += [
        f"trainer.max_epochs={EPOCHS[args.size]}",
        *SETUP,
        *probe_overrides(args.size),
        *overrides,
    ]
    git, started = git_state(exclude=out), time.perf_counter()
    rates = ",".join(f"{lr:g}" for lr in LEARNING_RATES[args.size])
    # The sweep only needs each rate's steps to the target: its runs end there.
    stop = f"+callbacks.training_probe.stop_at_error={args.target_error:g}"
    launch_multirun(
        [
            *base,
            stop,
            f"activation={','.join(ACTIVATIONS)}",
            f"optimizer.lr={rates}",
            f"seed={','.join(map(str, SWEEP_SEEDS))}",
        ],
        out / "lr_sweep",
    )
    sweep = load_runs(out / "lr_sweep")
    chosen, _ = choose_rates(sweep, args.target_error)
    missing = [name for name in ACTIVATIONS if name not in chosen]
    if missing:
        raise SystemExit(
            f"error: every rate of {', '.join(missing)} died; widen the grid "
            "(LEARNING_RATES) toward smaller rates"
        )
    seeds = args.seeds or SEEDS[args.size]
    fresh = [f"seed={','.join(str(s) for s in range(1, seeds + 1))}"]
    for name in ACTIVATIONS:
        launch_multirun(
            [*base, f"activation={name}", f"optimizer.lr={chosen[name]:g}", *fresh], out / name
        )
    write_summary(
        {stage_dir: load_runs(out / stage_dir) for stage_dir in ("lr_sweep", *ACTIVATIONS)}, out
    )
    record = collect(
        sorted({*SWEEP_SEEDS, *range(1, seeds + 1)}),
        time.perf_counter() - started,
        git=git,
        out=out,
    )
    write_provenance(out, {**record, "size": args.size})
    report(out, out, args.target_error)
    return out


if __name__ == "__main__":
    main()
