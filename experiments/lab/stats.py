"""Seed-to-seed statistics: a mean with its 95% confidence interval, and whether two arms differ
by more than their noise (Welch's t interval of the difference of their means). The intervals
and p-values are SciPy's (ttest_1samp, ttest_ind with equal_var=False, ttest_rel); what SciPy
lacks is here: the smallest detectable effect, Holm's adjustment, Wilson's interval."""

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

    def bounded(self, low: float = 0.0, high: float = 1.0) -> str:
        """The mean and its interval clipped to [low, high] (a rate's interval stays a rate)."""
        if self.half_width is None:
            return str(self)
        return (
            f"{self.mean:.3f} [{max(low, self.mean - self.half_width):.3f}, "
            f"{min(high, self.mean + self.half_width):.3f}]"
        )


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """The mean of `values` ± Student's t interval at `confidence`."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n < 2:
        return Estimate(mean, None, n)
    if _variance(values) == 0:
        return Estimate(mean, 0.0, n)
    return Estimate(mean, _half(stats.ttest_1samp(values, 0.0), confidence), n)


def difference(
    arm: Sequence[float], reference: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[Estimate, bool | None]:
    """mean(arm) - mean(reference) with Welch's interval, and whether the interval excludes 0
    (the difference exceeds the seed-to-seed noise); None when either side has under 2 seeds."""
    n, m = len(arm), len(reference)
    delta = math.fsum(arm) / n - math.fsum(reference) / m
    if n < 2 or m < 2:
        return Estimate(delta, None, min(n, m)), None
    if _variance(arm) == 0 and _variance(reference) == 0:
        return Estimate(delta, 0.0, min(n, m)), bool(delta != 0)
    half = _half(stats.ttest_ind(arm, reference, equal_var=False), confidence)
    return Estimate(delta, half, min(n, m)), bool(abs(delta) > half)


def _half(result: object, confidence: float) -> float:
    """Half the width of a SciPy t-test result's confidence interval."""
    interval = result.confidence_interval(confidence)  # type: ignore[attr-defined]
    return float(interval.high - interval.low) / 2


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


def ratio_ci(ratios: Sequence[float], confidence: float = CONFIDENCE, power: float = 0.8) -> Ratio:
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
    if se == 0:
        return Ratio(math.exp(centre), math.exp(centre), math.exp(centre), detectable, n)
    interval = stats.ttest_1samp(logs, 0.0).confidence_interval(confidence)
    return Ratio(
        math.exp(centre),
        math.exp(float(interval.low)),
        math.exp(float(interval.high)),
        detectable,
        n,
    )


@dataclass(frozen=True)
class PairedEffect:
    """The mean of per-seed differences (arm - reference, the same seed on both sides) with
    Student's t interval, its two-sided p-value, and the smallest difference n pairs with this
    spread could tell from 0 (at the confidence level, 80% power); None for n < 2."""

    mean: float
    low: float | None
    high: float | None
    p_value: float | None
    detectable: float | None
    n: int


def paired_difference(
    arm: dict[int, float],
    reference: dict[int, float],
    confidence: float = CONFIDENCE,
    power: float = 0.8,
) -> PairedEffect:
    """arm - reference over the seeds both have (seed -> value): arms that share task, data and
    order per seed are compared seed by seed, which removes the seed's own noise."""
    seeds = sorted(set(arm) & set(reference))
    if not seeds:
        raise ValueError(f"no seed in common: arm {sorted(arm)}, reference {sorted(reference)}")
    deltas = [arm[seed] - reference[seed] for seed in seeds]
    n, mean = len(deltas), math.fsum(deltas) / len(deltas)
    if n < 2:
        return PairedEffect(mean, None, None, None, None, n)
    se = math.sqrt(_variance(deltas) / n)
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    detectable = (t + float(stats.t.ppf(power, n - 1))) * se
    if se == 0:
        return PairedEffect(mean, mean, mean, 0.0 if mean else 1.0, 0.0, n)
    test = stats.ttest_rel([arm[s] for s in seeds], [reference[s] for s in seeds])
    interval = test.confidence_interval(confidence)
    return PairedEffect(
        mean, float(interval.low), float(interval.high), float(test.pvalue), detectable, n
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values tested together (family-wise error control):
    compare each adjusted value with the level, as if it were the only test."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval of a proportion (e.g. an accuracy on `trials` images): inside
    [0, 1] even at 0 or `trials` successes, unlike mean ± t * sd."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(
            f"need 0 <= successes <= trials and trials >= 1; got {successes}, {trials}"
        )
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials**2)) / (1 + z * z / trials)
    )
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends, not 1 - 1e-16
    return low, 1.0 if successes == trials else min(1.0, centre + half)
