"""The experiments that train: tower colour, dropout, localization, at their tiny size
(ablation and ReLU against tanh: test_ablation.py and test_relu_vs_tanh.py).

Each runs a real `python train.py -m` sweep; the reports are read back from the files written.
"""

import json

import pytest

from alexnet.tables import read_csv
from experiments.lab.stats import mean_ci
from tests.experiments.conftest import load
from tests.experiments.test_committed_results import REMADE, without_remade


@pytest.mark.slow
def test_tower_colour_measures_what_training_changed_against_random_halves(tmp_path):
    import torch

    from alexnet.callbacks.initial_weights import initial_weights
    from alexnet.interpret.colour import chroma_share, random_halves_gap, towers_gap
    from alexnet.run.checkpoints import resolve_checkpoint
    from alexnet.training.module import AlexNetModule

    module = load("tower_colour")
    out = module.main(["--size", "tiny", "--out", str(tmp_path / "out")])
    rows = read_csv(out / "towers.csv")
    assert [(r["seed"], r["state"], r["tower"]) for r in rows[:6]] == [
        ("0", state, tower) for state in module.STATES for tower in ("1", "2")
    ]
    path = resolve_checkpoint(out / "sweep" / "0")
    trained = AlexNetModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    weight = trained.model.features[0].weight.detach()
    init = initial_weights(torch.load(path, weights_only=True))["features.0.weight"]
    change = chroma_share(weight - init)  # the change, not the weights
    assert float(rows[0]["mean chroma share"]) == pytest.approx(float(change[:48].mean()), abs=1e-6)
    assert float(rows[0]["towers gap"]) == pytest.approx(towers_gap(change), abs=1e-6)
    assert float(rows[0]["random halves gap"]) == pytest.approx(
        random_halves_gap(change, seed=0), abs=1e-6
    )
    assert 0 < float(rows[0]["moved"]) < 1  # training moved conv1, not beyond it
    effect = json.loads((out / "effect.json").read_text())
    gaps = {
        int(r["seed"]): float(r["towers gap"]) - float(r["random halves gap"])
        for r in rows
        if r["state"] == module.STATES[0] and r["tower"] == "1"
    }
    assert effect["claim"] == "tower_colour" and effect["seeds"] == [0, 1]
    assert effect["effect"]["mean"] == pytest.approx(sum(gaps.values()) / 2, abs=1e-9)
    assert (out / "filters.png").stat().st_size > 1000
    # Stopped at the first validation at or above the target (the tests' 0.0: after epoch 1 of
    # 2), and conv1's change read from that epoch's checkpoint (the one measured above).
    assert {r["epochs"] for r in rows} == {"1"}
    assert torch.load(path, weights_only=True)["epoch"] == 0 and effect["removed"] == {}
    assert "Each run stopped at its first validation" in (out / "tower_colour.md").read_text()
    again = module.main(["--report", str(out), "--out", str(tmp_path / "again")])
    for name in ("tower_colour.md", "tower_colour.csv", "effect.json"):
        assert without_remade(again / name) == without_remade(out / name)


def test_tower_colour_at_cpu_is_the_declared_regime():
    module = load("tower_colour")
    overrides, seeds, target = module.plan("cpu", None, None)
    declared = module.regime()
    assert target == 0.615 == declared["target_val_acc1"] and seeds == 9
    assert "data=synthetic_hard_v1" in overrides and "model=paper2012" in overrides
    assert "trainer.max_epochs=80" in overrides and "callbacks=none" in overrides
    assert "+callbacks.stop_at_target.stopping_threshold=0.614999999" in overrides  # >= 0.615
    assert not [
        o for o in overrides if o.startswith("data.image_size=") and o != "data.image_size=67"
    ]


def test_a_tower_run_below_the_target_is_removed_and_counted():
    module = load("tower_colour")
    pair = lambda val: [{"val top-1": val, "epochs": 80.0}] * 2  # noqa: E731
    kept, removed = module.in_regime({0: pair(0.7), 1: pair(0.5), 2: pair(None)}, 0.615)
    assert list(kept) == [0] and set(removed) == {"1", "2"}
    assert "below the target val/acc1 0.615" in removed["1"]
    assert module.in_regime({1: pair(0.5)}, None) == ({1: pair(0.5)}, {})  # no declared stop


@pytest.mark.slow
def test_dropout_mlp_and_alexnet(tmp_path):
    module = load("dropout")
    out = module.main(["--size", "tiny", "--seeds", "2", "--out", str(tmp_path / "out")])
    rows = read_csv(out / "dropout.csv")
    assert [(r["model"], float(r["dropout"]), r["seeds"]) for r in rows] == [
        ("MLP (seed demo)", 0.0, "2"),
        ("MLP (seed demo)", 0.5, "2"),
        ("AlexNet (mini)", 0.0, "2"),
        ("AlexNet (mini)", 0.5, "2"),
    ]
    curves = read_csv(out / "mlp_curves.csv")
    assert len(curves) == 2 * 2 * 5 and {c["seed"] for c in curves} == {"0", "1"}
    # Accuracy is correct answers over the 2,000 test examples: a multiple of 1/2000, as a
    # float32 mean (off by up to 2000 * 2**-24 = 1.2e-4 counts; a wrong count is 1 away).
    assert all(
        float(c["test_acc"]) * 2000 == pytest.approx(round(float(c["test_acc"]) * 2000), abs=1e-3)
        for c in curves
    )
    # Exact: the CSV holds each float's repr, and mean_ci sums with math.fsum (exactly rounded,
    # so the order of the values does not matter).
    finals = [float(c["test_acc"]) for c in curves if c["epoch"] == "5" and c["dropout"] == "0.0"]
    assert rows[0]["final_heldout_acc"] == str(mean_ci(finals))
    runs = json.loads((out / "runs.json").read_text())
    assert sorted((r["config"]["dropout"]["p"], r["config"]["seed"]) for r in runs) == [
        (0.0, 0),
        (0.0, 1),
        (0.5, 0),
        (0.5, 1),
    ]
    assert "beyond seed noise" in (out / "dropout.md").read_text()
    assert (out / "dropout.png").stat().st_size > 10_000
    again = module.main(["--report", str(out), "--out", str(tmp_path / "again")])
    assert without_remade(again / "dropout.md") == without_remade(out / "dropout.md")
    assert REMADE in (again / "dropout.md").read_text()  # the re-make names its own commit


@pytest.mark.slow
def test_localization_scores_each_map_per_seed_and_the_claims_effect(tmp_path):
    module = load("localization")
    out = module.main(["--size", "tiny", "--out", str(tmp_path / "out")])
    rows = read_csv(out / "pointing.csv")
    assert [(r["seed"], r["map"]) for r in rows] == [
        (str(seed), name) for seed in (0, 1) for name in module.MAPS
    ]
    rate = {(int(r["seed"]), r["map"]): int(r["hits"]) / int(r["images"]) for r in rows}
    # The tiny task's held-out test images (3 classes x 2), the object's own masks: the oracle
    # on Grad-CAM's grid peaks inside every object.
    assert all(r["images"] == "6" for r in rows)
    assert rate[(0, module.MAPS[-1])] == rate[(1, module.MAPS[-1])] == 1.0
    effect = json.loads((out / "effect.json").read_text())
    deltas = [rate[(s, module.TRAINED)] - rate[(s, module.PRIOR)] for s in (0, 1)]
    assert effect["claim"] == "localization" and effect["seeds"] == [0, 1]
    assert effect["effect"]["mean"] == pytest.approx(sum(deltas) / 2, abs=1e-12)
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["seeds"] == [0, 1] and provenance["layer"] == "conv3"
    again = module.main(["--report", str(out), "--out", str(tmp_path / "again")])
    for name in ("localization.md", "localization.csv", "effect.json"):
        assert without_remade(again / name) == without_remade(out / name)
