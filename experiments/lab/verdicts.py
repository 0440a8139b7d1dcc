"""Verdicts that can say no: the paired t test and the exact sign-flip test must agree before a
claim is called for or against the paper; an interval whose paper-side end stays below the
declared effect says "smaller than the paper's"; two one-sided tests (TOST) say "no effect within
the margin"; everything else is "cannot tell", with the reason. Also the level each claim gets
under Holm's step-down, the smallest effect detectable at it, and the seeds a claim needs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

WORDS = (
    "agrees",
    "contradicts",
    "smaller than the paper's",
    "no effect within the margin",
    "cannot tell",
)
EXACT_MAX_N = 20  # up to 2^20 sign patterns enumerated; above, a seeded Monte Carlo
DRAWS = 100_000
_CHUNK = 10_000


def sign_flip_p(deltas: Sequence[float], direction: int | None = None, seed: int = 0) -> float:
    """The sign-flip (paired permutation) p-value of the mean of per-seed differences: under no
    effect each difference is as likely negated. Two-sided (|mean| as the statistic) when
    `direction` is None, else one-sided toward its sign. Patterns as extreme as the observed,
    ties included (within a 1e-9 relative tolerance for rounding), are counted; all 2^n patterns
    for n <= 20 (exact), else DRAWS patterns drawn with numpy's generator seeded `seed`, with
    p = (count + 1) / (DRAWS + 1) so that the observed pattern itself is counted."""
    x = np.asarray(deltas, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"sign_flip_p needs finite differences; got {list(deltas)}")
    if direction not in (None, 1, -1):
        raise ValueError(f"direction must be None, +1 or -1; got {direction}")
    observed = float(x.sum())
    threshold = abs(observed) if direction is None else direction * observed
    threshold -= 1e-9 * float(np.abs(x).sum())  # sums equal but for rounding count as ties

    def extreme(sums: np.ndarray) -> int:
        stat = np.abs(sums) if direction is None else direction * sums
        return int(np.count_nonzero(stat >= threshold))

    if x.size <= EXACT_MAX_N:
        sums = np.zeros(1)
        for value in x:  # every sign pattern's sum, doubling per difference
            sums = np.concatenate((sums + value, sums - value))
        return extreme(sums) / sums.size
    rng, count = np.random.default_rng(seed), 0
    for start in range(0, DRAWS, _CHUNK):
        signs = rng.integers(0, 2, size=(min(_CHUNK, DRAWS - start), x.size)) * 2.0 - 1.0
        count += extreme(signs @ x)
    return (count + 1) / (DRAWS + 1)


def holm_levels(p_values: Sequence[float], alpha: float) -> list[float]:
    """The level Holm's step-down holds each raw p-value to: alpha / (m - rank) by rank of p
    (ties in their given order), and after the first p that fails its level, that failed level
    for every larger p (the step-down stops there). So p < level exactly where holm(p) < alpha,
    and a claim's interval and smallest detectable effect can be given at the level it got."""
    _check_level(alpha)
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    levels, stopped = [0.0] * m, None
    for rank, index in enumerate(order):
        level = alpha / (m - rank) if stopped is None else stopped
        if stopped is None and not p_values[index] < level:
            stopped = level
        levels[index] = level
    return levels


def detectable_at(sd: float, n: int, level: float, power: float = 0.8) -> float | None:
    """The smallest paired difference n pairs with standard deviation `sd` detect with a
    two-sided paired t test at `level` with `power`: (t(1 - level/2) + t(power)) * sd / sqrt(n),
    df = n - 1, as stats.paired_difference computes it. None for n < 2. A zero spread (sd == 0)
    gives 0.0: then every nonzero effect is detectable."""
    _check_level(level)
    if not (math.isfinite(sd) and sd >= 0) or not 0 < power < 1:
        raise ValueError(f"need a finite sd >= 0 and 0 < power < 1; got {sd}, {power}")
    if n < 2:
        return None
    if sd == 0:
        return 0.0
    t = float(stats.t.ppf(1 - level / 2, n - 1)) + float(stats.t.ppf(power, n - 1))
    return t * sd / math.sqrt(n)


def seeds_for_power(
    sd: float, effect: float, level: float, power: float = 0.8, max_n: int = 200
) -> int | None:
    """The fewest seeds whose smallest detectable difference (detectable_at) is at most |effect|,
    for a pilot's paired SD `sd`; None if more than `max_n` would be needed (or effect is 0 with a
    nonzero spread). n is searched one by one: the t quantiles change with n."""
    for n in range(2, max_n + 1):
        if detectable_at(sd, n, level, power) <= abs(effect) and (effect != 0 or sd == 0):
            return n
    return None


def equivalence_p(deltas: Sequence[float], margin: float) -> float:
    """Two one-sided paired t tests (TOST) that the true mean difference lies within (-margin,
    +margin): the larger of the p-values against mean >= +margin and mean <= -margin; below the
    level, the effect is within the margin. Differences with no spread give 0 if |mean| < margin,
    else 1 (the t statistic is then infinite or undefined)."""
    if not margin > 0:
        raise ValueError(f"the margin must be > 0; got {margin}")
    values = [float(v) for v in deltas]
    if len(values) < 2 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"equivalence_p needs 2 or more finite differences; got {values}")
    if _sd(values) == 0:
        return 0.0 if abs(math.fsum(values) / len(values)) < margin else 1.0
    below = stats.ttest_1samp(values, margin, alternative="less").pvalue
    above = stats.ttest_1samp(values, -margin, alternative="greater").pvalue
    return float(max(below, above))


@dataclass(frozen=True)
class Verdict:
    """One claim's verdict (a word from WORDS) and what it rests on. p_t and p_sign_flip test
    no effect (two-sided); p_exact is the sign-flip p behind the word's own test (the one that
    failed, for a vetoed "cannot tell"; None where no t test decided). interval and detectable
    are at `level`, the level the verdict used (e.g. the claim's Holm level)."""

    word: str
    why: str
    mean: float
    n: int
    p_t: float
    p_sign_flip: float
    p_exact: float | None
    p_tost: float
    p_holm: float | None
    level: float
    interval: tuple[float, float]
    detectable: float
    declared_effect: float
    margin: float
    smaller_than_paper: bool
    scale_note: str = ""


def judge(
    deltas: Sequence[float],
    direction: int,
    declared_effect: float,
    margin: float,
    level: float,
    scale_note: str = "",
    *,
    p_holm: float | None = None,
    power: float = 0.8,
) -> Verdict:
    """The verdict on per-seed differences (treatment - reference) against the paper's direction
    (+1/-1), the declared effect (> 0, on the paper's side) and the equivalence margin (0 <
    margin < declared effect). Each word needs its t test and its exact sign-flip test both
    below `level`; the first word whose t test holds is taken, or "cannot tell" if its sign-flip
    cannot follow (e.g. 5 seeds: no two-sided p below 2/32). In order:
    agrees / contradicts: the interval excludes 0 on the paper's / the other side (agrees with
    smaller_than_paper=True where its paper-side end is also below the declared effect);
    no effect within the margin: TOST (before "smaller": it says more);
    smaller than the paper's: the interval's paper-side end is below the declared effect;
    cannot tell: otherwise, with the reason in `why`."""
    values = _checked(deltas, direction, declared_effect, margin, level)
    n, mean, sd = len(values), math.fsum(values) / len(values), _sd(values)
    oriented = [direction * v for v in values]
    if sd == 0:
        low = high = mean
        p_t = 0.0 if mean != 0 else 1.0
    else:
        test = stats.ttest_1samp(values, 0.0)
        interval = test.confidence_interval(1 - level)
        low, high, p_t = float(interval.low), float(interval.high), float(test.pvalue)
    near, far = sorted((direction * low, direction * high))  # the interval on the paper's side
    p_sign_flip = sign_flip_p(values)
    p_tost = equivalence_p(values, margin)

    def smaller_exact() -> float:
        return sign_flip_p([v - declared_effect for v in oriented])

    def tost_exact() -> float:
        lower = sign_flip_p([v + margin for v in oriented], direction=1)
        return max(lower, sign_flip_p([v - margin for v in oriented], direction=-1))

    candidates = (  # word, its t test, its sign-flip p, how many tails that p has
        ("agrees", near > 0, lambda: p_sign_flip, 2),
        ("contradicts", far < 0, lambda: p_sign_flip, 2),
        ("no effect within the margin", p_tost < level, tost_exact, 1),
        ("smaller than the paper's", far < declared_effect, smaller_exact, 2),
    )
    detectable = detectable_at(sd, n, level, power)
    assert detectable is not None  # n >= 2
    word, why, p_exact = "cannot tell", "", None
    for name, holds, exact, tails in candidates:
        if holds:
            p_exact = exact()
            if p_exact < level:
                word = name
            else:
                floor = tails / 2**n if n <= EXACT_MAX_N else 1 / (DRAWS + 1)
                why = (
                    f"the t test says {name!r} at level {level:.3g} but the exact sign-flip test "
                    f"cannot (p = {p_exact:.3g}; {n} seeds allow no p below {floor:.3g})"
                )
            break
    if word == "cannot tell" and not why:
        why = (
            f"the smallest detectable effect ({detectable:.3g}) is above the declared effect "
            f"({declared_effect:.3g})"
            if detectable > declared_effect
            else "the interval is too wide at this level"
        )
    smaller = word == "agrees" and far < declared_effect and smaller_exact() < level
    return Verdict(
        word=word,
        why=why,
        mean=mean,
        n=n,
        p_t=p_t,
        p_sign_flip=p_sign_flip,
        p_exact=p_exact,
        p_tost=p_tost,
        p_holm=p_holm,
        level=level,
        interval=(low, high),
        detectable=detectable,
        declared_effect=declared_effect,
        margin=margin,
        smaller_than_paper=smaller or word == "smaller than the paper's",
        scale_note=scale_note,
    )


def check_declared(claims: list[dict[str, Any]]) -> None:
    """Refuse (ValueError, one line naming the claim and the key) a claim without a declared
    effect_size and margin (numbers > 0, the margin below the effect: otherwise "no effect
    within the margin" could hold of the paper's own effect) or whose verdict is not in WORDS."""
    for number, declared in enumerate(claims):
        name = declared.get("id", f"#{number}")
        for key in ("effect_size", "margin"):
            value = declared.get(key)
            if not _positive(value):
                raise ValueError(f"claim {name!r}: {key} must be a number > 0; got {value!r}")
        if declared["margin"] >= declared["effect_size"]:
            raise ValueError(
                f"claim {name!r}: margin {declared['margin']} must be below effect_size "
                f"{declared['effect_size']}"
            )
        if declared.get("verdict") not in WORDS:
            raise ValueError(
                f"claim {name!r}: verdict must be one of {', '.join(WORDS)}; "
                f"got {declared.get('verdict')!r}"
            )


def _checked(
    deltas: Sequence[float], direction: int, declared_effect: float, margin: float, level: float
) -> list[float]:
    """The differences as floats, or ValueError on what judge cannot judge."""
    values = [float(v) for v in deltas]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"deltas must be finite (no nan or inf); got {values}")
    if len(values) < 2:
        raise ValueError(f"deltas need at least 2 seeds; got {len(values)}")
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1; got {direction}")
    if not _positive(declared_effect):
        raise ValueError(f"declared_effect must be a number > 0; got {declared_effect!r}")
    if not _positive(margin) or margin >= declared_effect:
        raise ValueError(f"margin must be > 0 and below declared_effect; got {margin!r}")
    _check_level(level)
    return values


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"the level must lie in (0, 1); got {level}")


def _positive(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _sd(values: Sequence[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))
