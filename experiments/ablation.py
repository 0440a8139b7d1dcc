"""Experiment 4, ablation study: the seed's four configurations and the paper's choices, over
several seeds, each effect beside what the paper reports for it.

    python experiments/ablation.py [--size tiny|cpu|full] [--seeds N] [--out DIR]
                                   [--arms ARM ...] [--data NAME] [--data-root PATH] [--parallel N]
                                   [hydra overrides ...]
    python experiments/ablation.py --report DIR [--out OUT]   # re-make the report, no training

One Hydra multirun over the `ablation` config group and `seed`: full (ReLU, dropout 0.5), tanh,
no_dropout, tanh_no_dropout (the seed's four), lrn, non_overlapping_pool, augment (the paper's
crops, flips and colour noise) and augment_no_pca. Each job is a real `python train.py` run. The
report reads the runs' summary (runs.json) only, and writes:
- ablation.md/.csv: each arm's metrics, mean ± 95% CI over the seeds;
- effects.md/.csv: each of the paper's claims, the measured difference (arm - reference, with
  Welch's 95% CI), the paper's figure, and whether the difference exceeds seed-to-seed noise;
- ablation.png, and provenance.json (how it was made).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from alexnet.experiment_args import (
    experiment_parser,
    output_dir,
    report_dirs,
    run_sweep,
    seeds_of,
    size_overrides,
)
from alexnet.provenance import provenance_markdown, read_provenance
from alexnet.stats import difference, mean_ci
from alexnet.sweeps import Run, load_runs
from alexnet.tables import markdown_table, write_table

ARMS = ("full", "tanh", "no_dropout", "tanh_no_dropout", "lrn", "non_overlapping_pool", "augment",
        "augment_no_pca")
EPOCHS = {"tiny": 2, "cpu": 10, "full": 30}
EXTRA = {"tiny": ["optimizer.lr=1e-3"], "cpu": ["optimizer.lr=1e-3"], "full": []}
METRICS = {"val_acc1": "val/acc1", "val_acc5": "val/acc5", "train_acc1": "train/acc1",
           "val_loss": "val/loss"}


@dataclass(frozen=True)
class Claim:
    """What the paper reports for one design choice, as a difference `arm` - `reference`."""

    claim: str
    arm: str
    reference: str
    metric: str  # a key of the arm's values: val_acc1, val_acc5 or gap (train - val top-1)
    paper: str
    sign: int  # the sign of the paper's difference: +1 or -1


# Krizhevsky et al. 2012, section 3.3 (LRN), 3.4 (overlapping pooling), 4.1 (augmentation) and
# 4.2 (dropout); points of top-1/top-5 error on ILSVRC-2012, here as accuracy differences.
CLAIMS = (
    Claim("LRN lowers top-1 error", "lrn", "full", "val_acc1", "+1.4 points top-1", +1),
    Claim("LRN lowers top-5 error", "lrn", "full", "val_acc5", "+1.2 points top-5", +1),
    Claim("overlapping pooling lowers top-1 error", "non_overlapping_pool", "full", "val_acc1",
          "-0.4 points top-1", -1),
    Claim("overlapping pooling lowers top-5 error", "non_overlapping_pool", "full", "val_acc5",
          "-0.3 points top-5", -1),
    Claim("PCA colour noise lowers top-1 error", "augment", "augment_no_pca", "val_acc1",
          "+1 point top-1 or more", +1),
    Claim("without dropout: substantial overfitting", "no_dropout", "full", "gap",
          "larger train-val gap", +1),
    Claim("without augmentation: substantial overfitting", "full", "augment", "gap",
          "larger train-val gap", +1),
)


def arm_of(run: Run) -> str:
    return run.record.get("choices", {}).get("ablation") or run.path.name


def arm_values(runs: list[Run]) -> dict[str, dict[str, list[float]]]:
    """arm -> metric -> one value per seed (gap: train top-1 - val top-1, overfitting)."""
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if run.record.get("status") != "completed":
            continue
        metrics = run.metrics
        for name, key in METRICS.items():
            if key in metrics:
                values[arm_of(run)][name].append(metrics[key])
        if "train/acc1" in metrics and "val/acc1" in metrics:
            values[arm_of(run)]["gap"].append(metrics["train/acc1"] - metrics["val/acc1"])
    return values


def arm_rows(runs: list[Run]) -> list[dict[str, object]]:
    """One row per arm: its knobs and each metric's mean ± 95% CI over the seeds."""
    values = arm_values(runs)
    first = {}
    for run in runs:
        first.setdefault(arm_of(run), run)
    rows = []
    for arm, run in first.items():
        config = run.config
        row: dict[str, object] = {
            "arm": arm, "activation": config["activation"]["name"],
            "dropout": config["dropout"]["p"], "lrn": bool(config["model"].get("lrn")),
            "pooling": config["model"].get("pooling") or "overlapping",
            "augment": config["data"]["augment"] + (
                "" if config["data"].get("pca_sigma", 0.1) else " (no PCA)"),
            "seeds": len(values[arm].get("val_acc1", [])),
        }
        for name in (*METRICS, "gap"):
            seeds = values[arm].get(name)
            row[name] = str(mean_ci(seeds)) if seeds else None
        rows.append(row)
    return rows


def effect_rows(runs: list[Run]) -> list[dict[str, object]]:
    """Each claim of the paper beside the measured difference and its 95% CI."""
    values = arm_values(runs)
    rows = []
    for claim in CLAIMS:
        arm, reference = values.get(claim.arm, {}), values.get(claim.reference, {})
        if not arm.get(claim.metric) or not reference.get(claim.metric):
            continue
        delta, beyond = difference(arm[claim.metric], reference[claim.metric])
        points = 100 * delta.mean
        ci = f" ± {100 * delta.half_width:.1f}" if delta.half_width is not None else ""
        rows.append({
            "paper's claim": claim.claim, "comparison": f"{claim.arm} - {claim.reference}",
            "metric": claim.metric, "measured (points)": f"{points:+.1f}{ci}",
            "paper": claim.paper,
            "beyond seed noise": {True: "yes", False: "no", None: "n/a (1 seed)"}[beyond],
            "same direction as the paper": ("yes" if delta.mean * claim.sign > 0 else
                                            "no" if delta.mean * claim.sign < 0 else
                                            "no difference"),
        })
    return rows


def ablation_figure(runs: list[Run]) -> Figure:
    """Validation top-1 and the train-val gap per arm: each seed a dot, the mean a bar."""
    values = arm_values(runs)
    arms = list(values)
    figure = Figure(figsize=(13, 4.8))
    panels = figure.subplots(1, 2)
    for axes, metric, label in ((panels[0], "val_acc1", "validation top-1"),
                                (panels[1], "gap", "train top-1 - val top-1 (overfitting)")):
        for position, arm in enumerate(arms):
            seeds = values[arm].get(metric, [])
            if not seeds:
                continue
            estimate = mean_ci(seeds)
            axes.bar(position, estimate.mean, 0.6, color="tab:blue", alpha=0.35,
                     yerr=estimate.half_width, capsize=4)
            axes.plot([position] * len(seeds), seeds, "o", color="tab:blue", ms=4)
        axes.set_ylabel(label)
        axes.set_xticks(range(len(arms)), arms, rotation=30, ha="right")
    figure.suptitle("AlexNet ablations: mean and 95% CI over seeds (dots: single seeds)")
    figure.tight_layout()
    return figure


def report(source: Path, out: Path) -> list[dict[str, object]]:
    """Write the tables, the figure and ablation.md's provenance line from `source`'s runs."""
    runs = load_runs(source)
    arms, effects = arm_rows(runs), effect_rows(runs)
    write_table(arms, out / "ablation")
    write_table(effects, out / "effects")
    provenance = provenance_markdown(read_provenance(source))
    text = ("# Ablation\n\n" + provenance + "\nEach arm, mean ± 95% CI over its seeds:\n\n" +
            markdown_table(arms) + "\nThe paper's claims beside the measured differences "
            "(arm - reference, Welch's 95% CI; ImageNet in the paper, these runs' data here). "
            "A difference is beyond seed noise when its interval excludes zero; with seven "
            "comparisons at 95%, one may pass by chance, and a small run that cannot tell says "
            "\"no\":\n\n" + markdown_table(effects))
    (out / "ablation.md").write_text(text)
    ablation_figure(runs).savefig(out / "ablation.png", dpi=110)
    print(text)
    print(f"Wrote {out}")
    return arms


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("ablation", __doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=1, help="jobs at once (joblib launcher)")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS),
                        help="the arms to run (default: all; a claim is scored when both of its "
                             "arms ran)")
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "ablation")
        report(source, out)
        return out
    out = output_dir("ablation", args.out)
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.parallel}"]
    run_sweep([*size_overrides(args.size, args.data_root, args.data),
               f"trainer.max_epochs={EPOCHS[args.size]}",
               *EXTRA[args.size], *(launcher if args.parallel > 1 else []),
               f"ablation={','.join(args.arms)}", *overrides], out, seeds_of(args))
    report(out, out)
    return out


if __name__ == "__main__":
    main()
