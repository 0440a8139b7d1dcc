"""Verdicts that can say no: the exact sign-flip p, Holm's per-claim levels, the smallest
detectable effect and the seeds it takes, TOST, and the five words judge gives."""

import itertools
import math
import statistics
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from experiments.lab import verdicts as verdicts_module
from experiments.lab.stats import holm, paired_difference
from experiments.lab.verdicts import (
    DRAWS,
    WORDS,
    check_declared,
    detectable_at,
    equivalence_p,
    holm_levels,
    judge,
    seeds_for_power,
    sign_flip_p,
)


def scipy_sign_flip(deltas: list[float], alternative: str) -> float:
    result = stats.permutation_test(
        (np.asarray(deltas),),
        lambda x, axis: np.mean(x, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf,
        alternative=alternative,
    )
    return float(result.pvalue)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [5, 8, 11])
def test_the_sign_flip_p_is_scipys_exact_permutation_test(seed, n):
    deltas = list(np.random.default_rng(seed).normal(0.4, 1.0, n))
    assert sign_flip_p(deltas) == pytest.approx(scipy_sign_flip(deltas, "two-sided"), abs=1e-12)
    assert sign_flip_p(deltas, 1) == pytest.approx(scipy_sign_flip(deltas, "greater"), abs=1e-12)
    assert sign_flip_p(deltas, -1) == pytest.approx(scipy_sign_flip(deltas, "less"), abs=1e-12)


def test_five_seeds_give_no_two_sided_p_below_0_0625():
    assert sign_flip_p([1.0, 2.0, 3.0, 4.0, 5.0]) == 2 / 32 == 0.0625
    assert sign_flip_p([0.3] * 5) == 0.0625  # however tight
    assert sign_flip_p([1.0, 2.0, 3.0, 4.0, 5.0], direction=1) == 1 / 32
    assert sign_flip_p([1.0, 2.0, 3.0, 4.0, 5.0], direction=-1) == 1.0
    assert sign_flip_p([0.0] * 5) == 1.0


def test_sign_patterns_that_tie_the_observed_mean_count_as_extreme():
    # +-1 +-1 +-2 sums: |4|, |2| twice, |-2| twice, |-4| reach |2|; the two zeros do not
    assert sign_flip_p([1.0, -1.0, 2.0]) == 6 / 8
    # decimals whose sums tie only up to rounding (0.1 + 0.2 != 0.3 in floats)
    deltas = [0.7, -0.6, -0.8, 0.7, -0.9]  # strict float comparison counts 18 of 32
    exact = [Fraction(str(d)) for d in deltas]
    observed = abs(sum(exact))
    patterns = list(itertools.product((1, -1), repeat=len(exact)))
    count = sum(abs(sum(s * d for s, d in zip(signs, exact))) >= observed for signs in patterns)
    assert sign_flip_p(deltas) == count / len(patterns) == 20 / 32


def test_above_twenty_seeds_the_sign_flip_p_is_a_seeded_monte_carlo(monkeypatch):
    deltas = list(np.random.default_rng(3).normal(0.3, 1.0, 21))
    drawn = sign_flip_p(deltas)
    assert drawn == sign_flip_p(deltas)  # seeded: the same p every time
    assert sign_flip_p(deltas, seed=1) != drawn
    monkeypatch.setattr(verdicts_module, "EXACT_MAX_N", 21)
    exact = sign_flip_p(deltas)
    assert abs(drawn - exact) < 4 * math.sqrt(exact * (1 - exact) / DRAWS)
    monkeypatch.undo()
    assert sign_flip_p([1.0] * 25) == 1 / (DRAWS + 1)  # never 0: the observed pattern counts


def test_holm_levels_step_down_and_stop_at_the_first_failure():
    levels = holm_levels([0.01, 0.04, 0.03, 0.005], 0.05)
    assert levels == pytest.approx([0.05 / 3, 0.025, 0.025, 0.0125])
    # 0.04 < 0.05 / 1 alone, but the step-down stopped at 0.03 >= 0.025
    assert holm_levels([0.03, 0.04], 0.05) == pytest.approx([0.025, 0.025])
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = list(rng.uniform(0, 0.06, rng.integers(1, 9)))
        by_level = [pi < level for pi, level in zip(p, holm_levels(p, 0.05))]
        assert by_level == [adjusted < 0.05 for adjusted in holm(p)]


def test_detectable_at_is_the_paired_differences_smallest_detectable():
    deltas = [0.012, -0.004, 0.02, 0.007, 0.015, 0.001]
    effect = paired_difference(dict(enumerate(deltas)), dict.fromkeys(range(6), 0.0))
    assert detectable_at(statistics.stdev(deltas), 6, 0.05) == pytest.approx(effect.detectable)
    assert detectable_at(statistics.stdev(deltas), 6, 0.01) > effect.detectable
    assert detectable_at(0.0, 5, 0.05) == 0.0
    assert detectable_at(1.0, 1, 0.05) is None


def test_seeds_for_power_is_the_first_n_that_detects_the_effect():
    needed = [seeds_for_power(1.0, effect, 0.05) for effect in (2.0, 1.0, 0.5, 0.3)]
    assert needed == sorted(needed) and len(set(needed)) == 4  # smaller effects, more seeds
    for effect in (2.0, 1.0, 0.5, 0.3):
        n = seeds_for_power(1.0, effect, 0.05)
        assert detectable_at(1.0, n, 0.05) <= effect < detectable_at(1.0, n - 1, 0.05)
    assert 32 <= seeds_for_power(1.0, 0.5, 0.05) <= 36  # Cohen's d = 0.5: about 34 pairs
    assert seeds_for_power(1.0, -0.5, 0.05) == seeds_for_power(1.0, 0.5, 0.05)
    assert seeds_for_power(1.0, 0.5, 0.00625) > seeds_for_power(1.0, 0.5, 0.05)
    assert seeds_for_power(1.0, 0.05, 0.05) is None  # over 200 seeds
    assert seeds_for_power(1.0, 0.0, 0.05) is None


def test_tost_finds_a_tight_cluster_at_zero_equivalent_and_a_shifted_one_not():
    rng = np.random.default_rng(1)
    assert equivalence_p(list(rng.normal(0.0, 0.01, 8)), 0.05) < 0.01
    shifted = list(rng.normal(0.1, 0.01, 8))
    assert equivalence_p(shifted, 0.05) > 0.5
    assert equivalence_p(shifted, 0.05) == pytest.approx(
        stats.ttest_1samp(shifted, 0.05, alternative="less").pvalue
    )
    assert equivalence_p([0.01] * 4, 0.05) == 0.0 and equivalence_p([0.06] * 4, 0.05) == 1.0


def test_a_large_tight_effect_agrees_and_the_other_way_contradicts():
    deltas = [1.0, 1.1, 0.95, 1.05, 0.98, 1.02, 1.08, 0.93]
    verdict = judge(deltas, direction=1, declared_effect=0.5, margin=0.1, level=0.05)
    assert verdict.word == "agrees" and not verdict.smaller_than_paper
    effect = paired_difference(dict(enumerate(deltas)), dict.fromkeys(range(8), 0.0))
    assert verdict.interval == pytest.approx((effect.low, effect.high))
    assert verdict.p_t == pytest.approx(effect.p_value) and verdict.p_sign_flip == 2 / 256
    assert judge(deltas, -1, 0.5, 0.1, 0.05).word == "contradicts"


def test_an_effect_beyond_zero_yet_below_the_papers_agrees_and_is_flagged_smaller():
    deltas = [0.2, 0.21, 0.19, 0.205, 0.195, 0.2, 0.198, 0.202]
    verdict = judge(deltas, 1, declared_effect=1.0, margin=0.05, level=0.05)
    assert verdict.word == "agrees" and verdict.smaller_than_paper


def test_a_placebo_scattered_around_zero_is_no_effect_within_the_margin():
    placebo = [-0.004, 0.003, -0.001, 0.002, 0.0, -0.002, 0.001, 0.001]
    for deltas in (placebo, [-d for d in placebo]):
        for direction in (1, -1):
            verdict = judge(deltas, direction, declared_effect=0.05, margin=0.02, level=0.05)
            assert verdict.word == "no effect within the margin"
            assert verdict.interval[0] < 0 < verdict.interval[1] and verdict.p_tost < 0.05


def test_an_interval_across_zero_ending_below_the_papers_effect_is_smaller():
    deltas = [0.03 + 0.05 * z for z in (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, -0.2, 0.2, 0.0)]
    verdict = judge(deltas, 1, declared_effect=0.2, margin=0.01, level=0.05)
    assert verdict.interval[0] < 0 < verdict.interval[1] < 0.2
    assert verdict.word == "smaller than the paper's" and verdict.smaller_than_paper


def test_five_seeds_the_t_test_rejects_at_0_01_cannot_tell_by_sign_flips():
    deltas = [1.0, 1.01, 0.99, 1.02, 0.98]
    verdict = judge(deltas, 1, declared_effect=0.5, margin=0.1, level=0.01)
    assert verdict.p_t < 1e-6 and verdict.interval[0] > 0  # the t test alone would agree
    assert verdict.word == "cannot tell" and verdict.p_sign_flip == 0.0625
    assert "sign-flip" in verdict.why and "0.0625" in verdict.why
    assert judge(deltas, 1, 0.5, 0.1, level=0.07).word == "agrees"


def test_cannot_tell_says_whether_the_seeds_were_too_few_or_the_interval_too_wide():
    few = judge([0.5, -0.4, 0.3], 1, declared_effect=0.1, margin=0.05, level=0.05)
    assert few.word == "cannot tell" and few.detectable > 0.1
    assert few.why == (
        f"the smallest detectable effect ({few.detectable:.3g}) is above the declared effect (0.1)"
    )
    z = np.random.default_rng(2).normal(size=20)
    z = (z - z.mean()) / z.std(ddof=1)
    wide = judge(list(0.5 + 1.39 * z), 1, declared_effect=1.0, margin=0.1, level=0.05)
    assert wide.interval[0] < 0 and wide.interval[1] > 1.0 and wide.detectable <= 1.0
    assert wide.word == "cannot tell" and wide.why == "the interval is too wide at this level"


@pytest.mark.parametrize(
    ("deltas", "direction", "declared", "margin", "key"),
    [
        ([0.1, math.nan, 0.2], 1, 0.5, 0.1, "deltas"),
        ([0.1, math.inf, 0.2], 1, 0.5, 0.1, "deltas"),
        ([0.1], 1, 0.5, 0.1, "deltas"),
        ([0.1, 0.2], 0, 0.5, 0.1, "direction"),
        ([0.1, 0.2], 2, 0.5, 0.1, "direction"),
        ([0.1, 0.2], 1, 0.0, 0.1, "declared_effect"),
        ([0.1, 0.2], 1, -0.5, 0.1, "declared_effect"),
        ([0.1, 0.2], 1, 0.5, 0.0, "margin"),
        ([0.1, 0.2], 1, 0.5, -0.1, "margin"),
        ([0.1, 0.2], 1, 0.5, 0.5, "margin"),  # "no effect" would then cover the paper's
    ],
)
def test_judge_refuses_what_it_cannot_judge(deltas, direction, declared, margin, key):
    with pytest.raises(ValueError, match=f"^{key}") as raised:
        judge(deltas, direction, declared, margin, 0.05)
    assert "\n" not in str(raised.value)


def test_check_declared_names_the_claim_and_the_bad_key():
    good = {"id": "lrn", "effect_size": 0.014, "margin": 0.005, "verdict": "cannot tell"}
    check_declared([good, {**good, "id": "pca_colour", "verdict": WORDS[2]}])
    for bad, key in [
        ({k: v for k, v in good.items() if k != "effect_size"}, "effect_size"),
        ({**good, "effect_size": "big"}, "effect_size"),
        ({**good, "effect_size": True}, "effect_size"),
        ({**good, "margin": 0}, "margin"),
        ({**good, "margin": math.nan}, "margin"),
        ({**good, "margin": 0.02}, "margin"),  # above the effect size
        ({**good, "verdict": "agrees, beyond noise"}, "verdict"),
        ({k: v for k, v in good.items() if k != "verdict"}, "verdict"),
    ]:
        with pytest.raises(ValueError, match=f"^claim 'lrn': {key}"):
            check_declared([{**good, "id": "relu_speed"}, bad])


def test_placebo_experiments_are_called_for_or_against_at_most_at_the_level():
    rng, level, runs = np.random.default_rng(2024), 0.05, 2000
    words = [judge(list(rng.normal(0.0, 1.0, 8)), 1, 1.0, 0.5, level).word for _ in range(runs)]
    decided = sum(word in ("agrees", "contradicts") for word in words) / runs
    assert decided <= level + 3 * math.sqrt(level * (1 - level) / runs)
    assert set(words) <= set(WORDS)
