"""The page of an ablation claim (experiments/ablation.py): each arm's rows, the paired effect with
its verdict's inputs, the colour-cast line of the PCA claim, the figure, and effect.json."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from alexnet.tables import markdown_table, write_table
from experiments.ablation_runs import (
    COLOUR_CAST,
    METRICS,
    arm_change,
    by_arm,
    claim_metric,
    final_probe,
    measure,
    run_values,
)
from experiments.lab.claims import (
    Claim,
    Measured,
    claim,
    load_claims,
    write_effect,
)
from experiments.lab.judging import judged
from experiments.lab.provenance import provenance_markdown, read_provenance
from experiments.lab.runs import Run, load_runs
from experiments.lab.stats import mean_ci, paired_difference, wilson


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
