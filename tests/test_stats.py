"""Means with Student's t intervals, and Welch's interval of a difference."""

import pytest

from alexnet.stats import difference, mean_ci


def test_mean_ci_is_students_t_interval():
    estimate = mean_ci([1.0, 2.0, 3.0])
    assert estimate.mean == 2.0
    assert estimate.half_width == pytest.approx(4.302653 / 3 ** 0.5, rel=1e-6)  # t(0.975, 2)
    assert str(estimate) == "2.000 ± 2.484"
    assert mean_ci([0.5]).half_width is None and str(mean_ci([0.5])) == "0.500 (n=1)"


def test_a_difference_counts_only_beyond_the_noise():
    delta, beyond = difference([0.80, 0.81, 0.82], [0.70, 0.71, 0.72])
    assert delta.mean == pytest.approx(0.10) and beyond is True
    # Welch: se = sqrt(0.0001/3 * 2), dof = 4, t(0.975, 4) = 2.776445
    assert delta.half_width == pytest.approx(2.776445 * (2 * 0.0001 / 3) ** 0.5, rel=1e-5)
    delta, beyond = difference([0.80, 0.70, 0.90], [0.78, 0.83, 0.75])
    assert beyond is False and abs(delta.mean) < delta.half_width
    assert difference([0.8], [0.7, 0.71])[1] is None
