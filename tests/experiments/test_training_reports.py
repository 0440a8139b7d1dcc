"""The experiments that train: ablation, ReLU against tanh, dropout, at their tiny size.

Each runs a real `python train.py -m` sweep; the reports are read back from the files written.
"""

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from alexnet.reporting.runs import Run, load_runs
from alexnet.reporting.stats import mean_ci
from alexnet.reporting.tables import read_csv
from tests.conftest import compose_train
from tests.experiments.conftest import load
from tests.experiments.test_committed_results import REMADE, without_remade


@pytest.mark.parametrize(
    ("arm", "knobs"),
    [
        ("full", ("relu", 0.5, False, "overlapping", "none")),
        ("tanh", ("tanh", 0.5, False, "overlapping", "none")),
        ("no_dropout", ("relu", 0.0, False, "overlapping", "none")),
        ("tanh_no_dropout", ("tanh", 0.0, False, "overlapping", "none")),
        ("lrn", ("relu", 0.5, True, "overlapping", "none")),
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
    from alexnet.reporting.claims import load_claims

    module = load("ablation")
    _, claims = load_claims()
    ablations = {c.id: c for c in claims if c.experiment == "ablation"}
    assert set(ablations) == set(module.CLAIM_IDS)
    knob = {
        "lrn": "model.lrn",
        "overlapping_pooling": "model.pooling",
        "pca_colour": "data.pca_sigma",
        "dropout_overfitting": "dropout.p",
        "augmentation_overfitting": "data.augment",
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


@pytest.mark.slow
def test_tower_colour_measures_what_training_changed_against_random_halves(tmp_path):
    import torch

    from alexnet.callbacks.initial_weights import initial_weights
    from alexnet.checkpoints import resolve_checkpoint
    from alexnet.interpret.colour import chroma_share, random_halves_gap, towers_gap
    from alexnet.module import AlexNetModule

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
    again = module.main(["--report", str(out), "--out", str(tmp_path / "again")])
    for name in ("tower_colour.md", "tower_colour.csv", "effect.json"):
        assert without_remade(again / name) == without_remade(out / name)


def test_steps_to_target_error_interpolates_between_probes():
    module = load("relu_vs_tanh")
    points = [(0, 0.9), (10, 0.5), (20, 0.2)]
    assert module.steps_to(points, 0.25) == pytest.approx(10 + 10 * 0.25 / 0.3, abs=1e-9)
    assert module.steps_to([(0, 0.2)], 0.25) == 0.0  # reached before training: step 0, exact
    assert module.steps_to([(0, 0.9), (5, 0.8)], 0.25) is None


STEPS_PER_EPOCH = 10


def sweep_run(
    activation: str, lr: float, errors: list[float], seed: int = 0, dead: float = 0.0
) -> Run:
    """A finished run whose probes (every 10 steps, one epoch apart; the first before training,
    at chance) saw these training errors; `dead`: act1's dead fraction at the end."""
    probe = [{"step": 0, "train_error": 0.9, "dead": {"act1": 0.0}, "logit_spread": 0.5}] + [
        {
            "step": STEPS_PER_EPOCH * (i + 1),
            "train_error": e,
            "dead": {"act1": 0.0},
            "logit_spread": 0.5,
        }
        for i, e in enumerate(errors)
    ]
    probe[-1]["dead"] = {"act1": dead}
    history = [{"step": STEPS_PER_EPOCH * (i + 1)} for i in range(len(errors))]
    return Run(
        Path(f"lr_sweep/{activation}-{lr}-{seed}"),
        {
            "activation": {"name": activation},
            "optimizer": {"lr": lr},
            "seed": seed,
            "data": {"seed": 0},
        },
        {"history": history, "probe": probe},
    )


def test_each_activation_keeps_the_live_rate_fastest_to_the_target():
    module = load("relu_vs_tanh")
    sweep = [
        # relu: 0.03 reaches 0.6 first (step 10 * 0.3 / 0.35); 0.01 later but ends lower; 0.1
        # reaches it soonest of all but then dies (act1 all dead): never chosen.
        sweep_run("relu", 0.01, [0.8, 0.1]),
        sweep_run("relu", 0.03, [0.55, 0.3]),
        sweep_run("relu", 0.1, [0.2, 0.9], dead=1.0),
        # tanh: none reaches 0.6; the lowest final error decides, not the order.
        sweep_run("tanh", 0.01, [0.7, 0.65]),
        sweep_run("tanh", 0.03, [0.9, 0.62]),
        # elu: both reach 0.6 at exactly step 10; the lower final error decides.
        sweep_run("elu", 0.01, [0.6, 0.5]),
        sweep_run("elu", 0.03, [0.6, 0.4]),
    ]
    chosen, table = module.choose_rates(sweep, 0.6)
    assert chosen == {"relu": 0.03, "tanh": 0.03, "elu": 0.03}  # the given floats, no arithmetic
    assert [row["chosen"] for row in table] == [
        "",
        "yes",
        "",
        "",
        "yes",
        "",
        "yes",
    ]  # relu 0.03 is in the middle of its three rates
    assert [row["run"] for row in table[:4]] == ["reached", "reached", "dead", "not reached"]
    assert table[2]["dead_units_at_end"] == "1.00"
    assert table[1]["steps_to_0.6_train_error"] == pytest.approx(10 * 0.3 / 0.35, abs=0.01)
    assert table[1]["epochs_to_0.6_train_error"] == pytest.approx(0.3 / 0.35, abs=0.01)


def test_the_chosen_rate_is_fast_for_every_sweep_seed():
    module = load("relu_vs_tanh")
    diverged = sweep_run("relu", 0.05, [0.5], seed=99)
    diverged.record["status"] = "failed"  # the loss went NaN: dead, whatever its probes said
    sweep = [
        # 0.05: seed 0 is fastest of all, seed 99 diverged: never chosen (a cliff's edge).
        sweep_run("relu", 0.05, [0.3, 0.2]),
        diverged,
        # 0.03: both seeds reach 0.6, the slower at 10 * 0.3 / 0.35; 0.01: slower at step 20.
        sweep_run("relu", 0.03, [0.4, 0.2]),
        sweep_run("relu", 0.03, [0.55, 0.3], seed=99),
        sweep_run("relu", 0.01, [0.5, 0.4]),
        sweep_run("relu", 0.01, [0.8, 0.3], seed=99),
    ]
    chosen, table = module.choose_rates(sweep, 0.6)
    assert chosen == {"relu": 0.03}
    assert [row["run"] for row in table[:2]] == ["reached", "dead"]
    assert [row["chosen"] for row in table] == ["", "", "yes", "yes", "", ""]
    assert [row["seed"] for row in table] == [0, 99, 0, 99, 0, 99]


def test_a_sweep_whose_rates_all_die_chooses_none():
    module = load("relu_vs_tanh")
    chosen, table = module.choose_rates([sweep_run("relu", 0.1, [0.2, 0.9], dead=1.0)], 0.6)
    assert chosen == {} and table[0]["chosen"] == ""


def test_seed_rows_count_the_seeds_that_reached_the_target():
    module = load("relu_vs_tanh")
    runs = [
        sweep_run("relu", 0.03, [0.55], seed=1),
        sweep_run("relu", 0.03, [0.3], seed=2),
        sweep_run("tanh", 0.01, [0.8, 0.5], seed=1),
        sweep_run("tanh", 0.01, [0.9], seed=2),
        sweep_run("tanh", 0.01, [0.1], seed=3, dead=1.0),
    ]
    rows, per_seed = module.seed_rows(runs, 0.6)
    relu, tanh = rows
    assert relu["reached_in"] == "2 of 2" and " ± " in relu["steps_to_0.6_train_error"]
    assert tanh["reached_in"] == "1 of 3" and tanh["dead_runs"] == 1
    assert tanh["steps_to_0.6_train_error"] == "16.667 (n=1)"  # 10 + 10 * 0.2 / 0.3
    assert tanh["epochs_to_0.6_train_error"] == "1.667 (n=1)"
    assert per_seed[1]["tanh"] == pytest.approx(10 + 10 * 0.2 / 0.3, abs=1e-9)
    assert set(per_seed[2]) == {"relu"} and 3 not in per_seed


def test_the_ratio_line_is_a_geometric_mean_of_seed_pairs():
    module = load("relu_vs_tanh")
    line = module.ratio_line(
        {1: {"relu": 10.0, "tanh": 20.0}, 2: {"relu": 10.0, "tanh": 80.0}, 3: {"relu": 10.0}},
        0.25,
        3,
    )
    assert "4.00x (geometric mean of 2 seed pairs)" in line  # sqrt(2 * 8), not (2 + 8) / 2
    assert "1 of 3 seed pairs left out" in line and "smallest detectable" in line


@pytest.mark.slow
def test_relu_vs_tanh_sweeps_each_rate_then_fresh_seeds(tmp_path):
    module = load("relu_vs_tanh")
    out = module.main(
        ["--size", "tiny", "--seeds", "2", "--out", str(tmp_path), "--target-error", "0.5"]
    )
    runs = json.loads((out / "runs.json").read_text())
    sweep = [r for r in runs if r["job"].startswith("lr_sweep/")]
    # Each activation and rate with both sweep seeds.
    assert len(sweep) == 2 * len(module.LEARNING_RATES["tiny"]) * len(module.SWEEP_SEEDS)
    assert all(r["config"]["model"]["preset"] == "four_layer" for r in runs)
    assert all(r["config"]["dropout"]["p"] == 0 for r in runs)
    # The rates are short decimals: the CSV and the overrides carry them exactly.
    chosen = {
        r["activation"]: float(r["lr"])
        for r in read_csv(out / "lr_sweep.csv")
        if r["chosen"].startswith("yes")
    }
    # The table holds the choice (tested above) made on the sweep's own runs.
    loaded = load_runs(out)
    assert (
        chosen == module.choose_rates([r for r in loaded if module.stage(r) == "lr_sweep"], 0.5)[0]
    )
    for name in ("relu", "tanh"):  # fresh seeds 1 and 2, each at its activation's own rate
        mine = [r for r in runs if r["job"].startswith(f"{name}/")]
        assert sorted(r["config"]["seed"] for r in mine) == [1, 2]
        assert {r["config"]["optimizer"]["lr"] for r in mine} == {chosen[name]}
    rows = {r["activation"]: r for r in read_csv(out / "relu_vs_tanh.csv")}
    assert set(rows) == {"relu", "tanh"} and all(r["seeds"] == "2" for r in rows.values())
    expected, _ = module.seed_rows([r for r in loaded if module.stage(r) != "lr_sweep"], 0.5)
    assert [row["activation"] for row in expected] == ["relu", "tanh"]
    for row in expected:  # the seeds' rows (tested above) of these runs' histories
        written = rows[row["activation"]]
        assert written["reached_in"] == row["reached_in"]
        assert written["steps_to_0.5_train_error"] == row["steps_to_0.5_train_error"]
    text = (out / "relu_vs_tanh.md").read_text()
    assert "paper: 6x on CIFAR-10" in text and "tanh / ReLU" in text
    # The sweep's seeds too.
    assert json.loads((out / "provenance.json").read_text())["seeds"] == [0, 1, 2, 99]
    assert {r["config"]["data"]["seed"] for r in runs} == {module.DATA_SEED}  # one task
    assert all(r["config"]["model"]["init"] == "default" for r in runs)  # the same init
    assert all(r["record"]["probe"][0]["step"] == 0 for r in runs)  # probed before training
    assert (out / "relu_vs_tanh.png").is_file()


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
