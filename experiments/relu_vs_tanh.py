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

import math
import time
from pathlib import Path

from matplotlib.figure import Figure

from alexnet.reporting.claims import Measured, write_effect
from alexnet.reporting.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
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
from alexnet.reporting.stats import mean_ci, paired_difference, ratio_ci
from alexnet.reporting.tables import markdown_table, write_table

PAPER_RATIO = 6.0
ACTIVATIONS = ("relu", "tanh")
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


def training_errors(run: Run) -> list[tuple[int, float]]:
    """(step, training error) of each probe, the first before any training."""
    return [(entry["step"], entry["train_error"]) for entry in run.record.get("probe", [])]


def steps_to(points: list[tuple[int, float]], target: float) -> float | None:
    """Steps (linearly interpolated between probes) until the training error first reaches
    `target`; None if it never does."""
    previous: tuple[int, float] | None = None
    for step, error in points:
        if error <= target:
            if previous is None:
                return float(step)
            (step0, error0) = previous
            return step0 + (step - step0) * (error0 - target) / max(error0 - error, 1e-12)
        previous = (step, error)
    return None


def steps_per_epoch(run: Run) -> int:
    """Optimizer steps in one epoch (the global step after the first)."""
    return int(run.history[0]["step"]) if run.history else 0


def final_dead(run: Run) -> dict[str, float]:
    """The fraction of dead units per activation layer at the last probe."""
    probes = run.record.get("probe") or [{}]
    return probes[-1].get("dead", {})


def is_dead(run: Run) -> bool:
    """Diverged (a failed run: the loss went NaN), every unit of some layer dead, or logits that
    no longer depend on the input, at the end."""
    if run.record.get("status") == "failed":
        return True
    probes = run.record.get("probe") or []
    if not probes:
        return False
    dead = probes[-1].get("dead", {})
    return (bool(dead) and max(dead.values()) >= 1.0) or probes[-1].get("logit_spread", 1) < 1e-6


def dead_text(run: Run) -> str:
    return " / ".join(f"{value:.2f}" for value in final_dead(run).values())


def stage(run: Run) -> str:
    return str(run.path.parent)


def activation(run: Run) -> str:
    return run.config["activation"]["name"]


def learning_rate(run: Run) -> float:
    return float(run.config["optimizer"]["lr"])


def choose_rates(sweep: list[Run], target: float) -> tuple[dict[str, float], list[dict]]:
    """Each activation's rate whose slower sweep seed reaches `target` in the fewest steps (a
    rate where a seed died or missed counts as never; ties: the lower worst final error; no
    rate reached by every seed: the lowest worst final error among rates with no dead seed),
    and the sweep's table, one row per run, with the dead-unit fractions (act1 / act2 / ...
    at the end) beside each rate."""
    table, worst = [], {}
    for run in sweep:
        errors = training_errors(run)
        steps = steps_to(errors, target)
        final = errors[-1][1] if errors else 1.0
        name, dead = activation(run), is_dead(run)
        key = (name, learning_rate(run))
        slowest = math.inf if dead or steps is None else steps
        seen = worst.get(key, (0.0, 0.0, False))
        worst[key] = (max(seen[0], slowest), max(seen[1], final), seen[2] or dead)
        per_epoch = steps_per_epoch(run)
        table.append(
            {
                "activation": name,
                "lr": learning_rate(run),
                "seed": run.config["seed"],
                f"steps_to_{target:g}_train_error": _round(steps),
                f"epochs_to_{target:g}_train_error": _round(
                    steps / per_epoch if steps is not None and per_epoch else None
                ),
                "final_train_error": round(final, 4),
                "dead_units_at_end": dead_text(run),
                "run": "dead" if dead else "reached" if steps is not None else "not reached",
            }
        )
    best: dict[str, tuple[tuple[float, float], float]] = {}
    for (name, lr), (slowest, final, dead) in worst.items():
        if dead:
            continue
        if name not in best or (slowest, final) < best[name][0]:
            best[name] = ((slowest, final), lr)
    chosen = {name: lr for name, (_, lr) in best.items()}
    for row in table:
        rates = [r["lr"] for r in table if r["activation"] == row["activation"]]
        edge = row["lr"] in (min(rates), max(rates)) and len(set(rates)) > 2
        note = " (the grid's edge: a rate beyond it may be faster)" if edge else ""
        row["chosen"] = "yes" + note if chosen.get(row["activation"]) == row["lr"] else ""
    return chosen, table


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def seed_rows(runs: list[Run], target: float) -> tuple[list[dict], dict[int, dict[str, float]]]:
    """One row per activation (steps and epochs to target, mean ± CI over seeds), and steps to
    target per training seed."""
    per_seed: dict[int, dict[str, float]] = {}
    rows = []
    for name in ACTIVATIONS:
        mine = [r for r in runs if activation(r) == name]
        if not mine:
            continue
        steps = [None if is_dead(r) else steps_to(training_errors(r), target) for r in mine]
        for run, value in zip(mine, steps):
            if value is not None:
                per_seed.setdefault(int(run.config["seed"]), {})[name] = value
        reached = [(s, steps_per_epoch(r)) for s, r in zip(steps, mine) if s is not None]
        finals = [training_errors(r)[-1][1] for r in mine if training_errors(r)]
        rows.append(
            {
                "activation": name,
                "lr": learning_rate(mine[0]),
                "seeds": len(mine),
                f"steps_to_{target:g}_train_error": str(mean_ci([s for s, _ in reached]))
                if reached
                else "not reached",
                f"epochs_to_{target:g}_train_error": str(mean_ci([s / e for s, e in reached]))
                if reached
                else "not reached",
                "reached_in": f"{len(reached)} of {len(mine)}",
                "dead_runs": sum(is_dead(r) for r in mine),
                "final_train_error": str(mean_ci(finals)) if finals else None,
                "epochs_run": len(mine[0].history),
            }
        )
    return rows, per_seed


def ratio_line(per_seed: dict[int, dict[str, float]], target: float, seeds: int) -> str:
    """tanh/ReLU steps to the target, per seed pair, on the log scale (geometric mean, 95% CI,
    the smallest ratio these pairs could detect), beside the paper's 6x; the pairs where an
    activation never reached the target are counted."""
    # A run at the target before its first step has no speed to compare: left out too.
    ratios = [
        v["tanh"] / v["relu"]
        for v in per_seed.values()
        if {"relu", "tanh"} <= set(v) and min(v.values()) > 0
    ]
    missing = seeds - len(ratios)
    dropped = (
        f" ({missing} of {seeds} seed pairs left out: an activation did not reach the "
        "target within the epochs run, its run died, or it started there)"
        if missing
        else ""
    )
    if not ratios:
        return (
            f"steps to {target:.0%} training error, tanh / ReLU: not measurable (no seed "
            f"where both reached it){dropped}; paper: {PAPER_RATIO:g}x on CIFAR-10"
        )
    ratio = ratio_ci(ratios)
    noise = ""
    if ratio.low is not None:
        noise = (
            f"; 95% CI [{ratio.low:.2f}, {ratio.high:.2f}], smallest detectable "
            f"{ratio.detectable:.2f}x: "
            + (
                "ReLU is faster beyond seed noise"
                if ratio.low > 1
                else "tanh is faster beyond seed noise"
                if ratio.high < 1
                else "within seed noise of no difference"
            )
        )
    return (
        f"steps to {target:.0%} training error, tanh / ReLU: {ratio.mean:.2f}x (geometric "
        f"mean of {len(ratios)} seed pairs){dropped}{noise}; paper: {PAPER_RATIO:g}x on "
        "CIFAR-10"
    )


def write_relu_effect(
    out: Path, per_seed: dict[int, dict[str, float]], runs: list[Run], provenance: dict
) -> None:
    """effect.json for the claims table: log(tanh steps / ReLU steps) per seed pair."""
    logs = {
        seed: math.log(v["tanh"] / v["relu"])
        for seed, v in per_seed.items()
        if {"relu", "tanh"} <= set(v) and min(v.values()) > 0
    }
    if not logs:
        return
    command = provenance.get("command", "").split()
    size = provenance.get("size") or (
        command[command.index("--size") + 1] if "--size" in command[:-1] else "cpu"
    )
    data = runs[0].record.get("data_version") or runs[0].config["data"]["source"]
    effect = paired_difference(logs, dict.fromkeys(logs, 0.0))
    write_effect(out, Measured("relu_speed", effect, "log-ratio", data, size, sorted(logs)))


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
