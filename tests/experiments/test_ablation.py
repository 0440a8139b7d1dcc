"""The ablation experiment (experiments/ablation.py): each arm's knobs, each claim's two arms,
and a claim run at its tiny size, a real `python train.py -m` sweep read back from its files."""

import json

import pytest
from omegaconf import OmegaConf

from alexnet.tables import read_csv
from tests.conftest import compose_train
from tests.experiments.conftest import load
from tests.experiments.test_committed_results import without_remade


@pytest.mark.parametrize(
    ("arm", "knobs"),
    [
        ("full", ("relu", 0.5, False, "overlapping", "none")),
        ("tanh", ("tanh", 0.5, False, "overlapping", "none")),
        ("no_dropout", ("relu", 0.0, False, "overlapping", "none")),
        ("tanh_no_dropout", ("tanh", 0.0, False, "overlapping", "none")),
        ("lrn", ("relu", 0.5, True, "overlapping", "none")),
        ("lrn_gain", ("relu", 0.5, True, "overlapping", "none")),
        ("placebo", ("relu", 0.5, False, "overlapping", "none")),
        ("non_overlapping_pool", ("relu", 0.5, False, "non_overlapping", "none")),
        ("augment", ("relu", 0.5, False, "overlapping", "paper")),
        ("augment_no_pca", ("relu", 0.5, False, "overlapping", "paper (no PCA)")),
    ],
)
def test_each_ablation_arm_sets_its_knobs(arm, knobs):
    config = compose_train(f"ablation={arm}", "model=mini")
    pca = "" if config.data.get("pca_sigma", 0.1) else " (no PCA)"
    # Config values typed in the arm's YAML: compared exactly.
    assert (
        config.activation.name,
        config.dropout.p,
        bool(config.model.get("lrn")),
        config.model.get("pooling") or "overlapping",
        config.data.augment + pca,
    ) == knobs


def test_every_ablation_claim_names_two_arms_that_differ_in_its_knob():
    from experiments.lab.claims import load_claims

    module = load("ablation")
    _, claims = load_claims()
    ablations = {c.id: c for c in claims if c.experiment == "ablation"}
    assert set(ablations) == set(module.CLAIM_IDS)
    knob = {
        "lrn": "model.lrn_scale",  # against the gain-matched control: alpha 0 or the paper's
        "overlapping_pooling": "model.pooling",
        "pca_colour": "data.pca_sigma",
        "dropout_overfitting": "dropout.p",
        "augmentation_overfitting": "data.augment",
        "placebo": "rng_offset",
    }
    for claim_id, declared in ablations.items():
        configs = [
            compose_train(f"ablation={arm}", "model=mini")
            for arm in (declared.reference, declared.treatment)
        ]
        differs = [
            key
            for key in (
                "model.lrn",
                "model.lrn_scale",
                "rng_offset",
                "model.pooling",
                "data.pca_sigma",
                "dropout.p",
                "data.augment",
                "activation.name",
            )
            if len({str(OmegaConf.select(c, key)) for c in configs}) > 1
        ]
        assert differs == [knob[claim_id]], claim_id  # the claim's knob and nothing else


@pytest.mark.slow
def test_an_ablation_claim_runs_its_two_arms_paired_and_writes_its_effect(tmp_path):
    module = load("ablation")  # the tiny size: 2 seeds of each arm on the hard task
    out = module.main(
        ["--claim", "dropout_overfitting", "--size", "tiny", "--out", str(tmp_path / "out")]
    )
    runs = json.loads((out / "runs.json").read_text())
    arms = {(r["record"]["choices"]["ablation"], r["config"]["seed"]) for r in runs}
    assert arms == {(arm, seed) for arm in ("full", "no_dropout") for seed in (0, 1)}
    assert {r["record"]["data_version"] for r in runs} == {"hard-v1"}
    # No arm is regularized beyond what it names: no weight decay anywhere.
    assert {r["config"]["optimizer"]["weight_decay"] for r in runs} == {0}
    by = {(r["record"]["choices"]["ablation"], r["config"]["seed"]): r["record"] for r in runs}

    def gap(record: dict) -> float:  # eval-mode accuracy on un-augmented training images
        return 1 - record["probe"][-1]["train_error"] - record["metrics"]["val/acc1"]

    effect = json.loads((out / "effect.json").read_text())
    deltas = [gap(by[("no_dropout", s)]) - gap(by[("full", s)]) for s in (0, 1)]
    assert effect["claim"] == "dropout_overfitting" and effect["seeds"] == [0, 1]
    assert effect["effect"]["mean"] == pytest.approx(sum(deltas) / 2, abs=1e-9)
    assert effect["effect"]["n"] == 2 and effect["data"] == "hard-v1"
    # Version 2's record: the per-seed differences, each arm's dead fractions, nothing removed.
    assert effect["version"] == 2 and effect["removed"] == {}
    assert effect["deltas"] == pytest.approx(deltas, abs=1e-12)
    assert set(effect["dead"]) == {"full", "no_dropout"}
    assert set(effect["dead"]["full"]["1"]) == {"act1", "act2", "act3", "act4"}
    assert all(0 <= r["record"]["colour_shifted_val"]["acc1"] <= 1 for r in runs)
    rows = {r["arm"]: r for r in read_csv(out / "ablation.csv")}
    assert (
        set(rows) == {"full", "no_dropout"}
        and "dropout 0.5" in rows["full"]["what the arm changes"]
        and "dropout 0;" in rows["no_dropout"]["what the arm changes"]
    )
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["claim"] == "dropout_overfitting" and provenance["seeds"] == [0, 1]
    assert f"`{provenance['command']}`" in (out / "ablation.md").read_text()
    assert (out / "ablation.png").stat().st_size > 10_000
    # The report re-made from runs.json alone, elsewhere, is the same.
    again = module.main(["--report", str(out), "--out", str(tmp_path / "again")])
    for name in ("ablation.md", "ablation.csv", "effect.json"):
        assert without_remade(again / name) == without_remade(out / name)


def test_failed_diverged_and_missing_runs_are_removed_and_counted():
    from pathlib import Path

    from experiments.lab.claims import claim
    from experiments.lab.runs import Run

    module = load("ablation")

    def run(arm, seed, status="completed", val=0.5, error=None):
        config = {"seed": seed, "data": {"source": "synthetic"}} if status == "completed" else {}
        record = {
            "status": status,
            "overrides": [f"ablation={arm}", f"seed={seed}"],
            "metrics": {"val/acc1": val} if status == "completed" else {},
            "probe": [{"train_error": 0.1, "dead": {"act1": 0.0}}],
            **({"error": error} if error else {}),
        }
        return Run(Path(f"{arm}{seed}"), config, record)

    runs = [
        *(
            run(arm, s, val=0.5 + 0.01 * s * (arm == "lrn"))
            for arm in ("lrn", "lrn_gain")
            for s in (0, 1, 2)
        ),
        run("lrn", 3, "failed", error="DivergenceError: loss is nan at step 7"),
        run("lrn_gain", 3),
        run("lrn_gain", 4, "failed", error="RunStopped: killed"),  # no config: from overrides
    ]
    result = module.measure(claim("lrn"), runs, "cpu", seeds=[0, 1, 2, 3, 4, 5])
    assert result.seeds == [0, 1, 2] and result.deltas == pytest.approx([0.0, 0.01, 0.02])
    assert result.removed == {
        "3": "lrn: DivergenceError: loss is nan at step 7",
        "4": "lrn_gain: RunStopped: killed",
        "5": "no record of either arm",
    }
