"""The tanh / ReLU speed ratios of experiments/relu_vs_tanh.py: the steps to the target (the
claim's metric) and the area under the training-error curves (beside it, needing no crossing),
each a line beside the paper's 6x, and effect.json for the claims table."""

from __future__ import annotations

import math
from pathlib import Path

from experiments.lab.claims import measured, write_effect
from experiments.lab.runs import Run
from experiments.lab.stats import ratio_ci
from experiments.relu_vs_tanh_runs import activation, horizon_steps, is_dead, mean_error

PAPER_RATIO = 6.0


def ratio_line(
    per_seed: dict[int, dict[str, float]],
    target: float,
    seeds: int,
    censored: dict[int, str] | None = None,
) -> str:
    """tanh/ReLU steps to the target, per seed pair, on the log scale (geometric mean, 95% CI,
    the smallest ratio these pairs could detect), beside the paper's 6x; the pairs left out
    (an arm missing, failed or never crossing where that removes the pair) and the censored
    ones (entered at the horizon) are counted."""
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
    if censored:
        dropped += (
            f" ({len(censored)} censored: tanh never reached the target and enters at the "
            "horizon, a lower bound on its ratio)"
        )
    if not ratios:
        return (
            f"steps to {target:.0%} training error, tanh / ReLU: not measurable (no seed "
            f"where both reached it){dropped}; paper: {PAPER_RATIO:g}x on CIFAR-10"
        )
    return (
        f"steps to {target:.0%} training error, tanh / ReLU: {_summary(ratios)}{dropped}; "
        f"paper: {PAPER_RATIO:g}x on CIFAR-10"
    )


def area_ratios(runs: list[Run]) -> dict[int, float]:
    """Per seed with both activations run to their horizon (neither failed nor dead): tanh's
    mean training error over the horizon / ReLU's (the ratio of the curves' areas)."""
    means: dict[int, dict[str, float]] = {}
    for run in runs:
        value = None if is_dead(run) else mean_error(run, horizon_steps(run))
        if value is not None:
            means.setdefault(int(run.config["seed"]), {})[activation(run)] = value
    return {
        seed: v["tanh"] / v["relu"]
        for seed, v in sorted(means.items())
        if {"relu", "tanh"} <= set(v) and v["relu"] > 0
    }


def area_line(ratios: dict[int, float]) -> str:
    """The area ratio beside the crossing ratio (no paper number: Figure 1 shows curves)."""
    if not ratios:
        return "area under the training-error curves, tanh / ReLU: no seed with both at the horizon"
    return (
        "area under the training-error curves over the horizon, tanh / ReLU: "
        f"{_summary(list(ratios.values()))}"
    )


def _summary(ratios: list[float]) -> str:
    ratio = ratio_ci(ratios)
    text = f"{ratio.mean:.2f}x (geometric mean of {len(ratios)} seed pairs)"
    if ratio.low is None:
        return text
    return (
        f"{text}; 95% CI [{ratio.low:.2f}, {ratio.high:.2f}], smallest detectable "
        f"{ratio.detectable:.2f}x: "
        + (
            "ReLU is faster beyond seed noise"
            if ratio.low > 1
            else "tanh is faster beyond seed noise"
            if ratio.high < 1
            else "within seed noise of no difference"
        )
    )


def write_relu_effect(
    out: Path,
    per_seed: dict[int, dict[str, float]],
    runs: list[Run],
    provenance: dict,
    *,
    censored: dict[int, str] | None = None,
    removed: dict[int, str] | None = None,
) -> None:
    """effect.json for the claims table: log(tanh steps / ReLU steps) per seed pair, with the
    removed pairs (and why) and the censored ones (entered at the horizon)."""
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
    data = runs[0].task
    gone = {str(seed): why for seed, why in (removed or {}).items()}
    gone.update(
        {
            str(seed): "an arm never reached the target, failed or diverged"
            for seed in per_seed
            if seed not in logs and str(seed) not in gone
        }
    )
    zero = dict.fromkeys(logs, 0.0)
    write_effect(
        out,
        measured(
            "relu_speed",
            logs,
            zero,
            "log-ratio",
            data,
            size,
            dead=dead_by_arm(runs),
            removed=gone,
            censored={str(seed): why for seed, why in (censored or {}).items()},
        ),
    )


def dead_by_arm(runs: list[Run]) -> dict[str, dict[str, dict[str, float]]]:
    """Each activation's dead fractions per seed at the end (the probe's last entry)."""
    dead: dict[str, dict[str, dict[str, float]]] = {}
    for run in runs:
        probes = run.record.get("probe") or [{}]
        dead.setdefault(activation(run), {})[str(run.config["seed"])] = probes[-1].get("dead", {})
    return dead
