"""Experiment 5, ReLU against tanh: the paper's Figure 1, with the paper's protocol, in a regime
where its mechanism can act.

    python -m experiments.relu_vs_tanh [--size tiny|cpu|full] [--seeds N] [--target-error E]
                                       [--data NAME] [--data-root PATH] [--out DIR]
                                       [hydra overrides ...]
    python -m experiments.relu_vs_tanh --report DIR [--out OUT]   # re-make the report

The paper: "a four-layer convolutional neural network with ReLUs reaches a 25% training error
rate on CIFAR-10 six times faster than an equivalent network with tanh neurons. The learning
rates for each network were chosen independently to make training as fast as possible. No
regularization of any kind was employed." Here, as there (relu_regime.py; at --size cpu every
number comes from experiments/declarations/relu_regime_v1.yaml, committed before its runs):
1. the `four_layer` preset (three convs and a linear layer) at 32 pixels, batch 128, no dropout,
   no weight decay, no augmentation, SGD with momentum 0.9 at a constant rate, no warm-up and
   no clipping; both activations from the same init (PyTorch's default);
2. one task for every run (data seed 0); only the training seed (init and order) varies;
3. training error as the paper means it: the current weights in eval mode on a fixed subset of
   the un-augmented training set, every few steps (alexnet.callbacks.training_probe), with the
   fraction of dead units per layer and the logits' spread;
4. per candidate task, in the declared order: a learning-rate sweep per activation (each rate
   with the sweep's own training seeds, a run ending at the target; a kept rate at the grid's
   edge adds two rates beyond it, once); the candidate qualifies when the slower activation
   needs the declared epochs or more, every sweep seed reaches the target with room before the
   horizon, and no layer ends above the dead-unit gate. The first that qualifies is the task;
   none qualifying: no claim runs, and the page says why;
5. fresh seeds at each activation's kept rate, the full horizon each: steps to the target and
   the tanh/ReLU ratio per seed pair (log scale: geometric mean, 95% CI, smallest detectable),
   and beside it the ratio of the areas under the training-error curves. A tanh run that never
   crosses enters at the horizon (censored: lab.judging.judged leaves a verdict a larger ratio could
   overturn undecided); a failed, dead or never-crossing ReLU run removes its pair (counted).
`--data cifar10` (at full) reads CIFAR-10 (from data/cifar10, or --data-root), downloading it on
first use. Writes relu_vs_tanh.md/.csv, lr_sweep.md/.csv, regime.md, relu_vs_tanh.png, effect.json,
runs.json and provenance.json.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from experiments import relu_regime
from experiments.lab.claims import full_data
from experiments.lab.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
    require_data_at_full,
    size_overrides,
)
from experiments.lab.provenance import collect, git_state, write_provenance
from experiments.lab.runs import Run, launch_multirun, load_runs, write_summary
from experiments.relu_regime import Regime, beyond_edge, failures
from experiments.relu_vs_tanh_report import SWEEP, report
from experiments.relu_vs_tanh_runs import (
    ACTIVATIONS,
    activation,
    choose_rates,
    learning_rate,
)


def probe_overrides(regime: Regime) -> list[str]:
    every, images = regime.probe
    return [
        "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
        f"+callbacks.training_probe.every_n_steps={every}",
        f"+callbacks.training_probe.images={images}",
    ]


def _key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def run_overrides(size_base: list[str], regime: Regime, candidate: tuple[str, ...]) -> list[str]:
    """The size's overrides less every key the regime or the candidate sets, then those (the
    candidate's own over the regime's, each key once)."""
    chosen = {_key(o) for o in candidate}
    own = [*candidate, *(o for o in regime.setup if _key(o) not in chosen)]
    taken = {_key(o) for o in own}
    return [*(o for o in size_base if _key(o) not in taken), *own, *probe_overrides(regime)]


def candidate_sweep(
    base: list[str], regime: Regime, out: Path, index: int
) -> tuple[dict[str, list[Run]], dict[str, float]]:
    """The candidate's rate sweep (its runs end at the target), its edge rates if a kept rate is
    at the grid's edge (once): their runs by stage dir, and the rates kept."""
    stop = f"+callbacks.training_probe.stop_at_error={regime.target:g}"
    seeds = f"seed={','.join(map(str, regime.sweep_seeds))}"
    name = f"{SWEEP}_{index}"
    launch_multirun(
        [
            *base,
            stop,
            f"activation={','.join(ACTIVATIONS)}",
            f"optimizer.lr={','.join(f'{r:g}' for r in regime.rates)}",
            seeds,
        ],
        out / name,
    )
    stages = {name: load_runs(out / name)}
    runs = list(stages[name])
    chosen, _ = choose_rates(runs, regime.target, regime.enforced)
    tried = {a: [learning_rate(r) for r in runs if activation(r) == a] for a in ACTIVATIONS}
    for act, rates in beyond_edge(chosen, tried).items():
        edge = f"{name}_edge_{act}"
        rates_text = ",".join(f"{r:g}" for r in rates)
        launch_multirun(
            [*base, stop, f"activation={act}", f"optimizer.lr={rates_text}", seeds], out / edge
        )
        stages[edge] = load_runs(out / edge)
        runs += stages[edge]
    chosen, _ = choose_rates(runs, regime.target, regime.enforced)
    return stages, chosen


def regime_for(args, overrides: list[str]) -> Regime:  # noqa: ANN001 - argparse's namespace
    """The size's regime: declared at cpu (its target fixed), the tests' at tiny, the declared
    rule on the named dataset at full."""
    if args.size == "tiny":
        return relu_regime.tiny(args.target_error or 0.25, args.seeds or 1)
    if args.size == "full":
        return relu_regime.full([], args.target_error or 0.25, args.seeds or 5)
    regime = relu_regime.declared(seeds=args.seeds)
    if args.target_error not in (None, regime.target):
        raise SystemExit(
            f"error: --target-error={args.target_error:g} at --size cpu: the target is declared "
            f"({regime.declared}: {regime.target:g})"
        )
    return regime


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("relu_vs_tanh", __doc__.splitlines()[0])
    parser.add_argument("--target-error", type=float, default=None)
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "relu_vs_tanh")
        report(source, out)
        return out
    require_data_at_full(args, full_data("relu_speed"))
    regime = regime_for(args, overrides)
    out = output_dir("relu_vs_tanh", args.out)
    git, started = git_state(exclude=out), time.perf_counter()
    stages: dict[str, list[Run]] = {}
    chosen, base = {}, []
    for index, (_, candidate) in enumerate(regime.candidates, start=1):
        data = next((o.split("=", 1)[1] for o in candidate if o.startswith("data=")), args.data)
        size_base = size_overrides(args.size, args.data_root, data)
        if args.size == "full":  # a named set at its native size (32 px: the synthetic's)
            size_base = [o for o in size_base if not o.startswith("data.image_size=")]
            if data in (None, "synthetic", "imagefolder"):
                size_base.append("data.image_size=32")
        base = [*run_overrides(size_base, regime, candidate), *overrides]
        swept, kept = candidate_sweep(base, regime, out, index)
        stages.update(swept)
        sweep = [run for runs in swept.values() for run in runs]
        if not failures(sweep, kept, regime) or (
            not regime.enforced and set(ACTIVATIONS) <= set(kept)
        ):
            chosen = kept
            break
    if chosen:
        fresh = f"seed={','.join(map(str, regime.seeds))}"
        for name in ACTIVATIONS:
            launch_multirun(
                [*base, f"activation={name}", f"optimizer.lr={chosen[name]:g}", fresh], out / name
            )
            stages[name] = load_runs(out / name)
    write_summary(stages, out)
    seeds = sorted({*regime.sweep_seeds, *(regime.seeds if chosen else ())})
    record = collect(seeds, time.perf_counter() - started, git=git, out=out)
    write_provenance(out, {**record, "size": args.size, "regime": asdict(regime)})
    report(out, out)
    if not chosen:
        raise SystemExit("error: no candidate task qualifies (regime.md says why); no claim runs")
    return out


if __name__ == "__main__":
    main()
