"""Seed-to-seed statistics: a mean with its 95% confidence interval, and whether two arms differ
by more than their noise (Welch's t interval of the difference of their means)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """The mean of n seeds and the half-width of its confidence interval (None for n < 2)."""

    mean: float
    half_width: float | None
    n: int

    def __str__(self) -> str:
        if self.half_width is None:
            return f"{self.mean:.3f} (n={self.n})"
        return f"{self.mean:.3f} ± {self.half_width:.3f}"


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """The mean of `values` ± Student's t interval at `confidence`."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n < 2:
        return Estimate(mean, None, n)
    sd = math.sqrt(_variance(values))
    t = stats.t.ppf(0.5 + confidence / 2, n - 1)
    return Estimate(mean, float(t * sd / math.sqrt(n)), n)


def difference(arm: Sequence[float], reference: Sequence[float],
               confidence: float = CONFIDENCE) -> tuple[Estimate, bool | None]:
    """mean(arm) - mean(reference) with Welch's interval, and whether the interval excludes 0
    (the difference exceeds the seed-to-seed noise); None when either side has under 2 seeds."""
    n, m = len(arm), len(reference)
    delta = math.fsum(arm) / n - math.fsum(reference) / m
    if n < 2 or m < 2:
        return Estimate(delta, None, min(n, m)), None
    var_a = _variance(arm) / n
    var_r = _variance(reference) / m
    se = math.sqrt(var_a + var_r)
    if se == 0:
        return Estimate(delta, 0.0, min(n, m)), bool(delta != 0)
    dof = (var_a + var_r) ** 2 / (var_a ** 2 / (n - 1) + var_r ** 2 / (m - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, dof) * se)
    return Estimate(delta, half, min(n, m)), bool(abs(delta) > half)


def _variance(values: Sequence[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
