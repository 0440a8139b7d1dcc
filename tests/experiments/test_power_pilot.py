"""The power pilot's rule (experiments/power_pilot.py, declared in
experiments/declarations/power_pilot_v1.yaml): seeds for 80% power at the strictest Holm level,
never fewer than the exact test needs, within each claim's budget."""

import math

import pytest

from alexnet.reporting.claims import load_claims
from alexnet.reporting.verdicts import detectable_at
from tests.experiments.conftest import load


def claims():
    return {c.id: c for c in load_claims()[1]}


def test_the_exact_test_needs_nine_seeds_at_the_strictest_holm_level():
    module = load("power_pilot")
    assert module.exact_seeds(0.05 / 9) == 9  # 2/2^8 = 0.0078 is above 0.0056, 2/2^9 below
    assert module.exact_seeds(0.05) == 6


def test_seeds_follow_the_pilots_sd_within_the_budget():
    module = load("power_pilot")
    measures = {
        "lrn": {"sd": 0.01, "pair_minutes": 3.0},  # 1.4 points with SD 1: about a dozen
        "overlapping_pooling": {"sd": 0.01, "pair_minutes": 3.0},  # 0.4 points: far too many
        "placebo": {"sd": 0.0, "pair_minutes": 3.0},  # no spread: the exact test's nine
        "pca_colour": {"sd": None, "pair_minutes": 3.0},  # a failed pilot: the budget's
    }
    plan = module.plan(measures, claims(), 0.05, 9, 60, 0.25)
    lrn = plan["lrn"]
    n = lrn["seeds"]
    assert lrn["n_power"] == n and 9 <= n <= 20 and not lrn["shrunk"]
    assert detectable_at(0.01, n, 0.05 / 9) <= 0.014 < detectable_at(0.01, n - 1, 0.05 / 9)
    pooling = plan["overlapping_pooling"]
    assert pooling["n_needed"] > 50 and pooling["shrunk"]
    assert pooling["seeds"] == pooling["n_budget"] == math.floor(60 / (3.0 * 0.75))
    assert plan["placebo"]["seeds"] == 9 and plan["placebo"]["n_power"] is None
    assert plan["pca_colour"]["seeds"] == 20


def test_the_validation_share_comes_from_the_runs_histories():
    module = load("power_pilot")

    class Run:
        record = {"wall_time_s": 100.0}
        history = [{"epoch": e, "validation_s": 2.0} for e in (9, 19, 29, 39, 49, 59)]

    assert module.validation_share([Run()]) == pytest.approx(0.10)  # five of six are saved


def test_a_hopeless_claim_and_a_failed_arm_are_reported_not_hidden():
    module = load("power_pilot")
    measures = {
        "overlapping_pooling": {"sd": 0.5, "pair_minutes": 3.0},  # over 1000 seeds
        "lrn": {"sd": 0.01, "pair_minutes": math.nan},  # an arm with no completed run
    }
    plan = module.plan(measures, claims(), 0.05, 9, 60, 0.0)
    assert plan["overlapping_pooling"]["n_power"] > 1000
    assert module.seeds_shown(plan["overlapping_pooling"]["n_needed"]) == "over 1000"
    assert plan["overlapping_pooling"]["seeds"] == 20  # the budget's, and the page says so
    assert plan["lrn"]["n_budget"] >= 20 and plan["lrn"]["seeds"] >= 9  # the others' cost
