"""The claims table: declared claims with their effect and margin, effects paired by seed,
Holm's levels across claims, verdicts that can say no, and refusals of what it cannot judge."""

import json
import math

import pytest
import yaml

from experiments.lab.claims import (
    CLAIMS_FILE,
    ClaimsError,
    Measured,
    load_claims,
    measured,
    read_effect,
    write_effect,
)
from experiments.lab.judging import judged
from tests.experiments.conftest import load

TEN = list(range(10))


def effect_of(claim_id: str, deltas: list[float], scale: str = "difference", **kw) -> Measured:
    return measured(
        claim_id,
        dict(enumerate(deltas)),
        dict.fromkeys(range(len(deltas)), 0.0),
        scale,
        "hard-v1",
        "cpu",
        **kw,
    )


def by_id():
    analysis, claims = load_claims()
    return analysis, {c.id: c for c in claims}


def test_every_declared_claim_has_its_effect_and_margin():
    analysis, claims = by_id()
    assert list(claims) == [
        "relu_speed",
        "lrn",
        "overlapping_pooling",
        "pca_colour",
        "dropout_overfitting",
        "augmentation_overfitting",
        "tower_colour",
        "localization",
        "placebo",
    ]
    assert analysis["version"] == 2 and analysis["correction"] == "holm"
    for c in claims.values():
        assert 0 < c.margin < c.effect_size and c.direction in (1, -1), c.id
    assert claims["relu_speed"].effect_size == pytest.approx(math.log(6), abs=1e-4)
    assert claims["lrn"].reference == "lrn_gain"  # the gain-matched control
    assert set(claims["placebo"].expected) == {
        "no effect within the margin",
        "smaller than the paper's",
        "cannot tell",
    }


def test_verdicts_say_agrees_contradicts_no_effect_and_smaller():
    analysis, claims = by_id()
    up = effect_of("lrn", [0.05 + 0.002 * i for i in TEN])
    down = effect_of("overlapping_pooling", [-0.05 - 0.002 * i for i in TEN])
    none = effect_of("dropout_overfitting", [0.001 * (-1) ** i for i in TEN])
    small = effect_of("augmentation_overfitting", [0.025 + 0.001 * (-1) ** i for i in TEN])
    found = judged(
        [
            (claims["lrn"], up),
            (claims["overlapping_pooling"], down),
            (claims["dropout_overfitting"], none),
            (claims["augmentation_overfitting"], small),
        ],
        analysis,
    )
    assert [v.word for v in found] == [
        "agrees",
        "contradicts",
        "no effect within the margin",
        "agrees",
    ]
    assert found[3].smaller_than_paper  # beyond noise, and below the declared 5 points
    # Holm's levels: the smallest p gets alpha / 4; the interval is at the claim's level.
    assert min(v.level for v in found) == pytest.approx(0.05 / 4)
    # Over the declared family of 9, the claims not measured yet count as p = 1: the levels
    # are those the full table will give (never looser as results arrive).
    (alone,) = judged([(claims["lrn"], up)], analysis, family=9)
    assert alone.level == pytest.approx(0.05 / 9) and alone.p_holm == pytest.approx(
        9 * alone.p_t, rel=1e-9
    )


def test_five_seeds_cannot_pass_the_exact_test_at_holm_levels():
    analysis, claims = by_id()
    strong = effect_of("lrn", [0.05, 0.06, 0.055, 0.052, 0.058])
    (alone,) = judged([(claims["lrn"], strong)], analysis)
    assert alone.word == "cannot tell" and "sign-flip" in alone.why  # 2/32 > 0.05
    one_seed = effect_of("lrn", [0.1])
    assert judged([(claims["lrn"], one_seed)], analysis) == [None]


def test_holm_levels_tighten_when_claims_are_tested_together():
    analysis, claims = by_id()
    weak = effect_of("pca_colour", [0.012 + 0.01 * math.sin(i) for i in TEN])
    (alone,) = judged([(claims["pca_colour"], weak)], analysis)
    together = judged([(claims[c], weak) for c in ("lrn", "pca_colour", "placebo")], analysis)
    assert alone.word == "agrees" and alone.p_t < 0.05 / 3 * 3
    assert together[0].level < alone.level and together[0].p_holm == pytest.approx(
        min(1.0, 3 * alone.p_t), rel=1e-9
    )


def test_too_many_removed_pairs_cannot_tell():
    analysis, claims = by_id()
    removed = {str(s): "full: DivergenceError" for s in (10, 11, 12)}
    strong = effect_of("lrn", [0.05 + 0.002 * i for i in TEN], removed=removed)
    (verdict,) = judged([(claims["lrn"], strong)], analysis)
    assert verdict.word == "cannot tell" and "3 of 13" in verdict.why


def test_a_censored_pair_leaves_undecided_what_a_larger_effect_could_overturn(tmp_path):
    analysis, claims = by_id()
    relu = claims["relu_speed"]
    censored = {"3": "tanh never reached the target: entered at the horizon"}
    small = [0.5 + 0.01 * i for i in TEN]  # 1.6x-1.8x: far below log 6, beyond noise
    (plain,) = judged([(relu, effect_of("relu_speed", small, "log-ratio"))], analysis)
    assert plain.word == "agrees" and plain.smaller_than_paper
    bounded = effect_of("relu_speed", small, "log-ratio", censored=censored)
    (verdict,) = judged([(relu, bounded)], analysis)
    assert verdict.word == "agrees" and not verdict.smaller_than_paper  # the direction stands
    assert "1 censored seed pair" in verdict.why
    nothing = effect_of(
        "relu_speed", [0.01 * (-1) ** i for i in TEN], "log-ratio", censored=censored
    )
    (undecided,) = judged([(relu, nothing)], analysis)
    assert undecided.word == "cannot tell" and "no effect within the margin" in undecided.why
    write_effect(tmp_path, bounded)  # kept through effect.json
    assert read_effect(tmp_path).censored == censored


def test_the_page_lists_every_claim_flags_dead_arms_and_the_placebos_surprise(tmp_path):
    module = load("claims")
    for folder, result in (
        (
            "ablation/lrn",
            effect_of(
                "lrn",
                [0.05 + 0.002 * i for i in TEN],
                dead={"lrn": {"0": {"act1": 0.02, "act2": 0.31}}},
            ),
        ),
        ("ablation/placebo", effect_of("placebo", [0.05 + 0.002 * i for i in TEN])),
        (  # noisy against its 0.4 points: its SD would need many more seeds
            "ablation/overlapping_pooling",
            effect_of("overlapping_pooling", [0.004 + 0.05 * (-1) ** i for i in TEN]),
        ),
        (
            "relu_vs_tanh",
            effect_of("relu_speed", [math.log(1.7 + 0.01 * i) for i in TEN], "log-ratio"),
        ),
    ):
        (tmp_path / folder).mkdir(parents=True)
        write_effect(tmp_path / folder, result)
    runs = [{"record": {"wall_time_s": 90.0}}, {"record": {"wall_time_s": 150.0}}]
    (tmp_path / "ablation" / "lrn" / "runs.json").write_text(json.dumps(runs))
    out = module.main(["--results", str(tmp_path)])
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 9 and sum("| not measured yet |" in r for r in rows) == 5
    pooling = next(r for r in rows if r.startswith("| overlapping pooling"))
    assert "its SD would need over 1000" in pooling  # SD 0.05 against 0.004
    assert "would need" not in next(r for r in rows if r.startswith("| ReLU"))
    lrn = next(r for r in rows if r.startswith("| local response"))
    assert "lrn 0.31 **above the gate**" in lrn and "agrees" in lrn
    assert "| 4 min (2 runs) |" in lrn  # its runs' summed wall time
    relu = next(r for r in rows if r.startswith("| ReLU"))
    assert "| 1.74x [" in relu and "agrees (smaller than the paper's)" in relu  # far below 6x
    placebo = next(r for r in rows if r.startswith("| placebo"))
    assert "**not one of its expected verdicts**" in placebo
    assert out.with_suffix(".png").stat().st_size > 10_000


def bad_claims(tmp_path, change) -> str:
    data = yaml.safe_load(CLAIMS_FILE.read_text())
    change(data)
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["claims"][1].pop("margin"), "claim 'lrn': margin must be declared"),
        (
            lambda d: d["claims"][2].update(effect_size="big"),
            "claim 'overlapping_pooling': effect_size must be declared, a number > 0; got 'big'",
        ),
        (
            lambda d: d["analysis"]["verdicts"].append("probably"),
            "analysis.verdicts: 'probably' is not a verdict",
        ),
        (
            lambda d: d["claims"][8].update(expected=["agrees", "maybe"]),
            "claim 'placebo': expected 'maybe' is not a verdict",
        ),
    ],
)
def test_a_bad_claims_file_is_one_line_and_writes_nothing(tmp_path, capsys, change, message):
    out = tmp_path / "page" / "claims.md"
    out.parent.mkdir()
    with pytest.raises(SystemExit) as stop:
        load("claims").main(
            [
                "--claims",
                bad_claims(tmp_path, change),
                "--results",
                str(tmp_path),
                "--out",
                str(out),
            ]
        )
    assert str(stop.value).startswith(f"error: {message}") and "\n" not in str(stop.value)
    assert list(out.parent.iterdir()) == []


def test_an_effect_of_another_claims_version_is_refused(tmp_path):
    folder = tmp_path / "ablation" / "lrn"
    folder.mkdir(parents=True)
    path = write_effect(folder, effect_of("lrn", [0.01, 0.02, 0.03]))
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "version": 1}))
    with pytest.raises(ClaimsError, match=r"claim 'lrn': version=1 in .* is not the claims"):
        read_effect(folder, 2)
    out = tmp_path / "claims.md"
    with pytest.raises(SystemExit, match="error: claim 'lrn': version=1"):
        load("claims").main(["--results", str(tmp_path), "--out", str(out)])
    assert not out.exists() and not out.with_suffix(".png").exists()
