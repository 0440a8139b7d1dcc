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


@dataclass(frozen=True)
class Ratio:
    """The geometric mean of paired ratios with its confidence interval (from Student's t on
    the log-ratios), and the smallest ratio that n pairs with this spread could tell from 1
    (two-sided test at the confidence level, 80% power); interval and ratio None for n < 2."""

    mean: float
    low: float | None
    high: float | None
    detectable: float | None
    n: int

    @property
    def beyond_noise(self) -> bool | None:
        """Whether the interval excludes 1."""
        return None if self.low is None else bool(self.low > 1 or self.high < 1)


def ratio_ci(ratios: Sequence[float], confidence: float = CONFIDENCE, power: float = 0.8
             ) -> Ratio:
    """Paired ratios (e.g. tanh's epochs over ReLU's, seed by seed) summarized on the log scale,
    where a ratio and its inverse are equally far from 1."""
    if not ratios or min(ratios) <= 0:
        raise ValueError(f"ratios must be positive and not empty; got {list(ratios)}")
    logs = [math.log(r) for r in ratios]
    n, centre = len(logs), math.fsum(logs) / len(logs)
    if n < 2:
        return Ratio(math.exp(centre), None, None, None, n)
    se = math.sqrt(_variance(logs) / n)
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    detectable = math.exp((t + float(stats.t.ppf(power, n - 1))) * se)
    return Ratio(math.exp(centre), math.exp(centre - t * se), math.exp(centre + t * se),
                 detectable, n)
