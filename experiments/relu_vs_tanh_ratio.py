"""The tanh / ReLU speed ratio of experiments/relu_vs_tanh.py: the line beside the paper's 6x,
and effect.json for the claims table, both from the steps to the target per seed pair."""

from __future__ import annotations

import math
from pathlib import Path

from alexnet.reporting.claims import measured, write_effect
from alexnet.reporting.runs import Run
from alexnet.reporting.stats import ratio_ci

PAPER_RATIO = 6.0


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
    data = runs[0].task
    removed = {
        str(seed): "an arm never reached the target, failed or diverged"
        for seed in per_seed
        if seed not in logs
    }
    zero = dict.fromkeys(logs, 0.0)
    write_effect(out, measured("relu_speed", logs, zero, "log-ratio", data, size, removed=removed))
