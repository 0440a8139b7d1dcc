"""The claims table: declared claims, effects paired by seed, Holm across claims, verdicts."""

import math

import pytest

from alexnet.reporting.claims import Measured, load_claims, verdicts, write_effect
from alexnet.reporting.stats import PairedEffect, paired_difference
from tests.experiments.conftest import load


def measured(claim_id: str, deltas: list[float], scale: str = "difference") -> Measured:
    effect = paired_difference(dict(enumerate(deltas)), dict.fromkeys(range(len(deltas)), 0.0))
    return Measured(claim_id, effect, scale, "hard-v1", "cpu", list(range(len(deltas))))


def test_the_declared_claims_cover_the_papers_list():
    analysis, claims = load_claims()
    assert [c.id for c in claims] == [
        "relu_speed",
        "lrn",
        "overlapping_pooling",
        "pca_colour",
        "dropout_overfitting",
        "augmentation_overfitting",
        "tower_colour",
        "localization",
    ]
    assert analysis["correction"] == "holm" and analysis["pairing"] == "seed"
    assert all(c.direction in (1, -1) and c.reference != c.treatment for c in claims)


def test_verdicts_read_the_sign_of_effects_beyond_noise():
    analysis, claims = load_claims()
    lrn, pooling = claims[1], claims[2]
    words = analysis["verdicts"]
    strong_up = measured("lrn", [0.05, 0.06, 0.055, 0.052, 0.058])
    strong_down = measured("overlapping_pooling", [-0.05, -0.06, -0.055, -0.052, -0.058])
    results = verdicts([(lrn, strong_up), (pooling, strong_down)], analysis)
    assert [verdict for _, verdict in results] == [words["agrees"], words["contradicts"]]
    one_seed = Measured(
        "lrn", PairedEffect(0.1, None, None, None, None, 1), "difference", "hard-v1", "cpu", [0]
    )
    assert verdicts([(lrn, one_seed)], analysis) == [(None, words["undecided"])]


def test_claims_tested_together_are_corrected_by_holm():
    analysis, claims = load_claims()
    words = analysis["verdicts"]
    weak = measured("pca_colour", [0.02, 0.01, 0.03, 0.0, 0.025])
    assert 0.017 < weak.effect.p_value < 0.05  # beyond noise alone, not after x3
    assert verdicts([(claims[3], weak)], analysis) == [(weak.effect.p_value, words["agrees"])]
    together = verdicts([(c, weak) for c in claims[1:4]], analysis)
    assert [verdict for _, verdict in together] == [words["undecided"]] * 3
    assert together[0][0] == pytest.approx(3 * weak.effect.p_value, rel=1e-9)


def test_the_claims_page_lists_every_claim_with_its_measure_or_none(tmp_path):
    module = load("claims")
    ablation = tmp_path / "ablation_lrn"
    ablation.mkdir()
    write_effect(ablation, measured("lrn", [0.05, 0.06, 0.055, 0.052, 0.058]))
    relu = tmp_path / "relu_vs_tanh"
    relu.mkdir()
    write_effect(
        relu, measured("relu_speed", [math.log(r) for r in (1.5, 2.0, 1.8, 1.6, 1.7)], "log-ratio")
    )
    out = module.main(["--results", str(tmp_path)])
    text = out.read_text()
    rows = {
        line.split(" | ")[0].lstrip("| "): line
        for line in text.splitlines()
        if line.startswith("| ") and "---" not in line
    }
    assert len(rows) == 1 + 8  # the header and one row per declared claim
    assert (
        "agrees, beyond noise"
        in rows["ReLU networks train several times faster than tanh networks"]
    )
    assert "1.71x" in text  # the geometric mean of the ratios, exp(mean log)
    assert "+5.5 points" in text and text.count("not measured yet") == 6
