"""Experiment 4, ablation: one of the paper's design claims at a time, two arms paired by seed.

    python -m experiments.ablation --claim ID [--size tiny|cpu|full] [--seeds N] [--out DIR]
                                   [--data NAME] [--data-root PATH] [hydra overrides ...]
    python -m experiments.ablation --report DIR [--out OUT]   # re-make the report, no training

The claims, their two arms (configs of the `ablation` group), metric, direction, declared
effect and margin are in experiments/claims.yaml before any run: lrn (against its gain-matched
control, lrn_gain), overlapping_pooling, pca_colour, dropout_overfitting,
augmentation_overfitting and the placebo. Each run is a real `python train.py` job, both arms
with the same seeds (the seed fixes the task, the data order and the init: the arms are compared
seed by seed). At the `cpu` size: the hard synthetic task (data=synthetic_hard: hard-v2), the
claim's seeds from its power analysis (else 5), the claims file's reference recipe (no weight
decay: an arm's regularization is exactly what the arm names); `full`: Imagenette or ImageNet
(--data, --data-root) on a GPU. experiments/ablation_all.py runs every claim at once, sharing
the arms, and calls `report` for each.

Reported per arm: validation top-1 (mean ± 95% CI over seeds; one run's 2,500 images give it to
about a point, Wilson's interval beside it) and under a colour cast (ColourShiftProbe), training
accuracy (eval mode, un-augmented training images: alexnet.callbacks.training_probe), the
overfitting gap (their difference; not the running train-mode accuracy, which dropout and
augmentation lower by themselves), the worst layer's dead fraction, and what the arm changed in
the computation: LRN's output/input ratio spread (0: a constant rescale), the colour noise's RMS
shift along the training set's own RGB components, the pooling and the dropout. The claim's
effect: treatment - reference per seed (a seed whose run failed or diverged in either arm is
removed and counted), Student's t interval, its p-value and the smallest effect these seeds
could detect; effect.json keeps the per-seed differences and each arm's dead fractions for the
claims table (experiments/claims.py: Holm's levels and verdicts that can say no). Top-5 is not
reported: at 10 classes it is near 1 for every arm. Writes ablation.md/.csv, ablation.png,
effect.json, runs.json and provenance.json."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from alexnet.tables import markdown_table, write_table
from experiments.lab.claims import (
    Claim,
    Measured,
    claim,
    full_data,
    judged,
    load_claims,
    measured,
    reference_overrides,
    write_effect,
)
from experiments.lab.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
    require_data_at_full,
    run_sweep,
    size_overrides,
)
from experiments.lab.provenance import provenance_markdown, read_provenance
from experiments.lab.runs import Run, load_runs
from experiments.lab.stats import mean_ci, paired_difference, wilson

CLAIM_IDS = (
    "lrn",
    "overlapping_pooling",
    "pca_colour",
    "dropout_overfitting",
    "augmentation_overfitting",
    "placebo",
)
SEEDS = {"tiny": 2, "cpu": 5, "full": 5}
DATA = {"tiny": "synthetic_hard", "cpu": "synthetic_hard", "full": None}
PROBE = {"tiny": (4, 12), "cpu": (100, 500), "full": (500, 2000)}
COLOUR_CAST = 0.3  # the colour-cast validation's shift, in colour SDs (claims.yaml's pca_colour)
NOOP_SPREAD = 1e-3  # LRN's output/input ratio varying less than this is a constant factor
METRICS = {
    "val_acc1": "validation top-1",
    "cast_acc1": "validation top-1 under a colour cast",
    "train_acc": "training accuracy (eval, un-augmented)",
    "gap": "gap (training - validation)",
}


def probe_overrides(size: str) -> list[str]:
    every, images = PROBE[size]
    return [
        "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
        f"+callbacks.training_probe.every_n_steps={every}",
        f"+callbacks.training_probe.images={images}",
        "+callbacks.colour_shift._target_=alexnet.callbacks.colour_shift_probe.ColourShiftProbe",
        f"+callbacks.colour_shift.sigma={COLOUR_CAST}",
    ]


def given(run: Run, key: str) -> str | None:
    """`key`'s value on the run's command line (a failed run's record may have no config)."""
    found = [o.split("=", 1)[1] for o in run.record.get("overrides", []) if o.startswith(f"{key}=")]
    return found[-1] if found else None


def arm_of(run: Run) -> str:
    return run.record.get("choices", {}).get("ablation") or given(run, "ablation") or run.path.name


def seed_of(run: Run) -> int:
    seed = run.config.get("seed")
    return int(seed if seed is not None else given(run, "seed") or 0)


def final_probe(run: Run) -> dict:
    return (run.record.get("probe") or [{}])[-1]


def run_values(run: Run) -> dict[str, float]:
    """One run's metrics: validation top-1, training accuracy in eval mode on un-augmented
    training images (the probe's last entry, the final weights), and their gap."""
    values = {"val_acc1": run.metrics["val/acc1"]}
    cast = run.record.get("colour_shifted_val") or {}
    if "acc1" in cast:
        values["cast_acc1"] = cast["acc1"]
    probe = final_probe(run)
    if "train_error" in probe:
        values["train_acc"] = 1.0 - probe["train_error"]
        values["gap"] = values["train_acc"] - values["val_acc1"]
    return values


def arm_change(run: Run) -> str:
    """What the arm changes in the computation, measured where it can be."""
    config, parts = run.config, []
    spread = final_probe(run).get("lrn_spread")
    if spread:
        noop = (
            " (a constant rescale: LRN is a no-op at this activation scale)"
            if max(spread.values()) < NOOP_SPREAD
            else ""
        )
        parts.append("LRN ratio spread " + " / ".join(f"{v:.2g}" for v in spread.values()) + noop)
    basis = run.record.get("colour_basis")
    if config["data"]["augment"] != "none":
        shift = f", colour shift {basis['shift_rms']:.4f} RMS" if basis else ", no colour noise"
        parts.append(f"augment {config['data']['augment']}{shift}")
    parts.append(f"pooling {config['model'].get('pooling') or 'overlapping'}")
    parts.append(f"dropout {config['dropout']['p']:g}")
    parts.append(f"weight decay {config['optimizer'].get('weight_decay', 0):g}")
    return "; ".join(parts)


def by_arm(runs: list[Run]) -> dict[str, dict[int, Run]]:
    """arm -> seed -> completed run."""
    arms: dict[str, dict[int, Run]] = {}
    for run in runs:
        if run.record.get("status") == "completed":
            arms.setdefault(arm_of(run), {})[int(run.config["seed"])] = run
    return arms


def arm_rows(runs: list[Run]) -> list[dict[str, object]]:
    """One row per arm: each metric's mean ± 95% CI over seeds, one run's Wilson interval on
    its validation images, and what the arm changed."""
    rows = []
    for arm, seeds in by_arm(runs).items():
        values = [run_values(run) for run in seeds.values()]
        first = next(iter(seeds.values()))
        images = first.config["data"]["val_per_class"] * first.config["data"]["num_classes"]
        accuracy = sum(v["val_acc1"] for v in values) / len(values)
        low, high = wilson(round(accuracy * images), images)
        row: dict[str, object] = {"arm": arm, "seeds": len(values)}
        for name in METRICS:
            found = [v[name] for v in values if name in v]
            row[name] = str(mean_ci(found)) if found else None
        row["one run's val interval (Wilson)"] = f"[{low:.3f}, {high:.3f}] of {images}"
        dead = [max(d.values()) for r in seeds.values() if (d := final_probe(r).get("dead"))]
        row["worst layer's dead fraction (max over seeds)"] = f"{max(dead):.3f}" if dead else "n/a"
        row["what the arm changes"] = arm_change(first)
        rows.append(row)
    return rows


def claim_metric(declared: Claim) -> str:
    return "gap" if declared.metric.startswith("gap") else declared.metric


def measure(
    declared: Claim, runs: list[Run], size: str, seeds: list[int] | None = None
) -> Measured | None:
    """treatment - reference on the claim's metric, seed by seed, by the declared rule: a seed
    whose run failed or diverged in either arm (or lacks the metric), or of the sweep's `seeds`
    with no record at all, is removed and counted, never silently dropped; each arm's dead
    fractions (the probe's last entry) kept."""
    metric, arms = claim_metric(declared), (declared.treatment, declared.reference)
    values: dict[str, dict[int, float]] = {arm: {} for arm in arms}
    dead: dict[str, dict[str, dict[str, float]]] = {arm: {} for arm in arms}
    removed: dict[str, str] = {}
    for run in runs:
        arm, seed = arm_of(run), seed_of(run)
        if arm not in values:
            continue
        status = run.record.get("status")
        found = run_values(run).get(metric) if status == "completed" else None
        if found is None:
            why = (run.record.get("error") or status or "no record").splitlines()[0]
            removed[str(seed)] = f"{arm}: {why}"[:200]
            continue
        values[arm][seed] = found
        dead[arm][str(seed)] = dict(final_probe(run).get("dead") or {})
    common = set(values[arms[0]]) & set(values[arms[1]])
    for arm in arms:  # a seed whose other arm was removed goes with it
        for seed in set(values[arm]) - common:
            removed.setdefault(str(seed), "its pair was removed")
    for seed in seeds or []:  # a job that wrote no record at all
        if seed not in common:
            removed.setdefault(str(seed), "no record of either arm")
    if not common:
        return None
    first = next(
        r for r in runs if arm_of(r) == declared.reference and r.record.get("status") == "completed"
    )
    data = first.task
    return measured(
        declared.id,
        {s: values[arms[0]][s] for s in common},
        {s: values[arms[1]][s] for s in common},
        "difference",
        data,
        size,
        dead={arm: {s: d for s, d in dead[arm].items() if int(s) in common} for arm in arms},
        removed=removed,
    )


def effect_line(declared: Claim, result: Measured | None, analysis: dict) -> str:
    if result is None:
        return f"{declared.claim}: not measured (an arm has no completed run)."
    effect = result.effect
    removed = f"; {len(result.removed)} seed pairs removed" if result.removed else ""
    if effect.low is None:
        return (
            f"{declared.treatment} - {declared.reference}, {declared.metric}: "
            f"{100 * effect.mean:+.1f} points (1 seed: no interval{removed})"
        )
    (verdict,) = judged([(declared, result)], analysis)
    return (
        f"{declared.treatment} - {declared.reference}, {declared.metric}: "
        f"{100 * effect.mean:+.1f} points, 95% CI [{100 * effect.low:+.1f}, "
        f"{100 * effect.high:+.1f}] over {effect.n} seed pairs{removed}, p = "
        f"{effect.p_value:.3g}; smallest detectable {100 * effect.detectable:.1f} points; "
        f"alone, at level {verdict.level:g}: {verdict.word} (declared effect "
        f"{100 * declared.effect_size:.1f} points, margin {100 * declared.margin:.1f}; the "
        f"claims table sets each claim's level by Holm across claims). Paper: {declared.paper}"
    )


def cast_line(declared: Claim, runs: list[Run]) -> str:
    """For the colour noise's claim, also the effect on validation under a colour cast."""
    if declared.id != "pca_colour":
        return ""
    arms = by_arm(runs)
    sides = [
        {s: v for s, r in arms.get(arm, {}).items() if (v := run_values(r).get("cast_acc1"))}
        for arm in (declared.treatment, declared.reference)
    ]
    if len(set(sides[0]) & set(sides[1])) < 2:
        return "\n\nUnder a colour cast: not measured (fewer than 2 seed pairs)."
    effect = paired_difference(*sides)
    return (
        f"\n\nAlso (not in the claims table): under a colour cast (each validation image shifted "
        f"{COLOUR_CAST:g} SDs along each colour component), {declared.treatment} - "
        f"{declared.reference}: {100 * effect.mean:+.1f} points, 95% CI "
        f"[{100 * effect.low:+.1f}, {100 * effect.high:+.1f}] over {effect.n} seed pairs, "
        f"p = {effect.p_value:.3g}."
    )


def ablation_figure(runs: list[Run], declared: Claim) -> Figure:
    """The claim's metric per arm, each seed a dot joined to its pair, the mean a bar."""
    arms, metric = by_arm(runs), claim_metric(declared)
    order = [declared.reference, declared.treatment]
    figure = Figure(figsize=(6, 4.5))
    axes = figure.subplots()
    for position, arm in enumerate(order):
        values = [run_values(r).get(metric) for r in arms.get(arm, {}).values()]
        values = [v for v in values if v is not None]
        if values:
            estimate = mean_ci(values)
            axes.bar(
                position,
                estimate.mean,
                0.6,
                color="tab:blue",
                alpha=0.35,
                yerr=estimate.half_width,
                capsize=4,
            )
    for seed in sorted(set(arms.get(order[0], {})) & set(arms.get(order[1], {}))):
        pair = [run_values(arms[arm][seed]).get(metric) for arm in order]
        axes.plot([0, 1], pair, "o-", color="tab:blue", ms=4, lw=0.8)
    axes.set_xticks([0, 1], order)
    axes.set_ylabel(METRICS.get(metric, metric))
    axes.set_title(f"{declared.claim}\n(mean, 95% CI; lines join seeds)", fontsize=10)
    figure.tight_layout()
    return figure


def report(source: Path, out: Path, claim_id: str | None = None) -> Measured | None:
    """Write the claim's tables, figure and effect.json from `source`'s runs."""
    runs = load_runs(source)
    provenance = read_provenance(out) or read_provenance(source) or {}
    claim_id = claim_id or provenance.get("claim")
    declared, (analysis, _) = claim(claim_id), load_claims()
    size = provenance.get("size", "cpu")
    rows, result = arm_rows(runs), measure(declared, runs, size, provenance.get("seeds"))
    write_table(rows, out / "ablation")
    if result is not None:
        write_effect(out, result)
    text = (
        f"# Ablation: {declared.claim}\n\n"
        + provenance_markdown(provenance or None)
        + f"\nClaim `{declared.id}` (experiments/claims.yaml): {declared.treatment} against "
        f"{declared.reference}, {declared.metric}, paired by seed.\n\n"
        + effect_line(declared, result, analysis)
        + cast_line(declared, runs)
        + "\n\nEach arm, mean ± 95% CI over its "
        "seeds:\n\n" + markdown_table(rows)
    )
    (out / "ablation.md").write_text(text)
    ablation_figure(runs, declared).savefig(out / "ablation.png", dpi=110)
    print(text)
    print(f"Wrote {out}")
    return result


def arm_overrides(size: str, data: str | None = None, data_root: str | None = None) -> list[str]:
    """Every arm's overrides at `size` but the arm itself (ablation=...): the size's, the
    reference recipe less the knobs each arm's config sets, the probes, no other callbacks."""
    recipe = [
        o
        for o in reference_overrides(size)
        if not o.startswith(("dropout=", "data.augment=", "activation="))
    ]
    data = data or (None if data_root else DATA[size])
    return [
        *size_overrides(size, data_root, data),
        *recipe,
        *probe_overrides(size),
        "callbacks=none",
        "test=false",
    ]


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("ablation", __doc__.splitlines()[0])
    parser.add_argument("--claim", choices=CLAIM_IDS, help="the claim to test (its two arms)")
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "ablation")
        report(source, out, args.claim)
        return out
    if args.claim is None:
        parser.error(f"--claim is required: one of {', '.join(CLAIM_IDS)}")
    declared = claim(args.claim)
    require_data_at_full(args, full_data(args.claim))
    out = output_dir(f"ablation_{args.claim}", args.out)
    run_sweep(
        [
            *arm_overrides(args.size, args.data, args.data_root),
            f"ablation={declared.reference},{declared.treatment}",
            *declared.overrides.get(args.size, []),  # the power pilot's shrunk run, if any
            *overrides,
        ],
        out,
        args.seeds or declared.seeds.get(args.size) or SEEDS[args.size],
        extra={"claim": args.claim, "size": args.size},
    )
    report(out, out, args.claim)
    return out


if __name__ == "__main__":
    main()
