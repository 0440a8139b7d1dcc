"""Means with Student's t intervals, and Welch's interval of a difference."""

import math

import pytest

from alexnet.stats import difference, mean_ci, ratio_ci


def test_mean_ci_is_students_t_interval():
    estimate = mean_ci([1.0, 2.0, 3.0])
    assert estimate.mean == 2.0  # math.fsum of small integers, / 3: exact
    assert estimate.half_width == pytest.approx(4.302653 / 3 ** 0.5, rel=1e-6)  # t(0.975, 2)
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
