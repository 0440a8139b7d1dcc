"""Means with Student's t intervals, and Welch's interval of a difference."""

import math

import pytest
from scipy import stats

from experiments.lab.stats import difference, holm, mean_ci, paired_difference, ratio_ci, wilson


def test_mean_ci_is_students_t_interval():
    estimate = mean_ci([1.0, 2.0, 3.0])
    assert estimate.mean == 2.0  # math.fsum of small integers, / 3: exact
    assert estimate.half_width == pytest.approx(4.302653 / 3**0.5, rel=1e-6)  # t(0.975, 2)
    assert str(estimate) == "2.000 ± 2.484"
    assert mean_ci([0.5]).half_width is None and str(mean_ci([0.5])) == "0.500 (n=1)"


def test_a_difference_counts_only_beyond_the_noise():
    delta, beyond = difference([0.80, 0.81, 0.82], [0.70, 0.71, 0.72])
    # Python floats: 0.81 - 0.71 is 0.1 up to decimal-to-binary rounding
    assert delta.mean == pytest.approx(0.10, abs=1e-12) and beyond is True
    # Welch: se = sqrt(0.0001/3 * 2), dof = 4, t(0.975, 4) = 2.776445
    assert delta.half_width == pytest.approx(2.776445 * (2 * 0.0001 / 3) ** 0.5, rel=1e-5)
    delta, beyond = difference([0.80, 0.70, 0.90], [0.78, 0.83, 0.75])
    assert beyond is False and abs(delta.mean) < delta.half_width
    assert difference([0.8], [0.7, 0.71])[1] is None


def test_a_ratio_is_summarized_on_the_log_scale():
    # Ratios 2 and 8: the geometric mean is 4 (the arithmetic one, 5, would favour the larger);
    # log-ratios ln2, ln8 have mean ln4 and sd sqrt(2)*ln2, se ln2; t(0.975, 1) = 12.7062.
    ratio = ratio_ci([2.0, 8.0])
    assert ratio.mean == pytest.approx(4.0, rel=1e-12)
    assert ratio.low == pytest.approx(4.0 * math.exp(-12.706205 * math.log(2)), rel=1e-5)
    assert ratio.high == pytest.approx(4.0 * math.exp(12.706205 * math.log(2)), rel=1e-5)
    assert ratio.beyond_noise is False
    # A ratio and its inverse are symmetric about 1: the interval of 1/r is 1/(that of r).
    inverse = ratio_ci([0.5, 0.125])
    assert inverse.low == pytest.approx(1 / ratio.high, rel=1e-9)
    tight = ratio_ci([5.8, 6.0, 6.2, 6.1, 5.9])
    assert tight.beyond_noise is True and 1 < tight.detectable < 1.1 < tight.low
    assert ratio_ci([3.0]).low is None and ratio_ci([3.0]).beyond_noise is None
    with pytest.raises(ValueError, match="positive"):
        ratio_ci([1.0, 0.0])


def test_a_paired_difference_is_seed_by_seed():
    # Both arms move together with the seed: paired, the shift of 0.02 is far beyond noise;
    # Welch's unpaired interval on the same numbers could not tell it from 0.
    reference = {0: 0.60, 1: 0.70, 2: 0.80, 3: 0.65, 4: 0.75}
    arm = {seed: value + 0.02 + 0.001 * (seed % 2) for seed, value in reference.items()}
    effect = paired_difference(arm, reference)
    same = stats.ttest_rel([arm[s] for s in range(5)], [reference[s] for s in range(5)])
    assert effect.n == 5 and effect.mean == pytest.approx(0.0204, abs=1e-12)
    assert effect.p_value == pytest.approx(same.pvalue, rel=1e-9) and effect.p_value < 1e-5
    low, high = same.confidence_interval(0.95)
    assert (effect.low, effect.high) == pytest.approx((low, high), rel=1e-9)
    assert 0 < effect.detectable < effect.mean
    assert difference(list(arm.values()), list(reference.values()))[1] is False
    # Only the seeds both arms have are paired.
    assert paired_difference({0: 1.0, 7: 5.0}, {0: 0.5, 1: 0.0}).n == 1
    with pytest.raises(ValueError, match="no seed in common"):
        paired_difference({1: 1.0}, {2: 1.0})


def test_holm_adjusts_step_down():
    # Sorted 0.01, 0.02, 0.04 times 3, 2, 1: 0.03, 0.04, 0.04 (kept non-decreasing).
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04], abs=1e-12)
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0], abs=1e-12)  # capped at 1
    assert holm([]) == []


def test_wilson_stays_inside_zero_and_one():
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)  # z = 1.95996
    low, high = wilson(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(10, 10)[1] == 1.0
    with pytest.raises(ValueError, match="successes <= trials"):
        wilson(11, 10)
