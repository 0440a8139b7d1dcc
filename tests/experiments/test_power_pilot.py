"""The power pilot's rule (experiments/power_pilot.py, declared in
experiments/declarations/power_pilot_v1.yaml): seeds for 80% power at the strictest Holm level,
never fewer than the exact test needs, the largest within the claims' shared budget."""

import math

import pytest

from experiments.lab.claims import load_claims
from experiments.lab.verdicts import detectable_at
from tests.experiments.conftest import load


def claims():
    return {c.id: c for c in load_claims()[1]}


def test_the_exact_test_needs_nine_seeds_at_the_strictest_holm_level():
    module = load("power_pilot")
    assert module.exact_seeds(0.05 / 9) == 9  # 2/2^8 = 0.0078 is above 0.0056, 2/2^9 below
    assert module.exact_seeds(0.05) == 6


def test_the_sweep_runs_the_largest_claims_seeds_within_the_shared_budget():
    module = load("power_pilot")
    sds = {"lrn": 0.01, "placebo": 0.0, "pca_colour": 0.006}
    plan = module.plan(sds, claims(), 0.05, 9, 360, 30.0, 0.1)  # 12 seeds fit 360 minutes
    lrn = plan["claims"]["lrn"]
    assert 9 < lrn["n"] == lrn["n_power"] <= 12 and not plan["shrunk"]
    n = lrn["n"]
    assert detectable_at(0.01, n, 0.05 / 9) <= 0.014 < detectable_at(0.01, n - 1, 0.05 / 9)
    assert plan["claims"]["placebo"]["n"] == 9 and plan["claims"]["placebo"]["n_power"] is None
    assert plan["seeds"] == n  # the largest claim's, for every claim


def test_beyond_the_budget_the_run_is_shrunk_and_the_page_says_what_was_needed():
    module = load("power_pilot")
    plan = module.plan({"overlapping_pooling": 0.5}, claims(), 0.05, 9, 360, 30.0, 0.25)
    assert plan["claims"]["overlapping_pooling"]["n_power"] > 1000
    assert module.seeds_shown(plan["claims"]["overlapping_pooling"]["n"]) == "over 1000"
    assert plan["shrunk"] and plan["budget"] == math.floor(360 / (30.0 * 0.75)) == plan["seeds"]
    few = module.plan({"lrn": None, "placebo": 0.01}, claims(), 0.05, 9, 360, 30.0, 0.0)
    assert few["claims"]["lrn"]["n"] == 12 and few["seeds"] == 12  # too few pairs: the budget


def test_the_validation_share_comes_from_the_runs_histories():
    module = load("power_pilot")

    class Run:
        record = {"wall_time_s": 100.0}
        history = [{"epoch": e, "validation_s": 2.0} for e in (9, 19, 29, 39, 49, 59)]

    assert module.validation_share([Run()]) == pytest.approx(0.10)  # five of six are saved


def test_every_declaration_reads_as_yaml():
    import yaml

    from tests.conftest import ROOT

    for path in sorted((ROOT / "experiments" / "declarations").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        assert isinstance(spec, dict) and spec["version"] >= 1, path.name
    spec = load("power_pilot").declared()
    assert spec["seeds"] == [0, 1, 2, 3] and len(spec["claims"]) == 6
