"""What an ablation claim (experiments/ablation.py) reads from its runs: each run's arm, seed and
values (the claim's metric, the colour-cast accuracy, LRN's spread), what an arm changed, the
runs by arm and seed, and the paired effect under the declared rule for failed, diverged and
missing runs."""

from __future__ import annotations

from experiments.lab.claims import (
    Claim,
    Measured,
    measured,
)
from experiments.lab.runs import Run

COLOUR_CAST = 0.3  # the colour-cast validation's shift, in colour SDs (claims.yaml's pca_colour)
NOOP_SPREAD = 1e-3  # LRN's output/input ratio varying less than this is a constant factor

METRICS = {
    "val_acc1": "validation top-1",
    "cast_acc1": "validation top-1 under a colour cast",
    "train_acc": "training accuracy (eval, un-augmented)",
    "gap": "gap (training - validation)",
}


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
