"""ReLU against tanh (experiments/relu_vs_tanh.py): steps to the target error, the rate each
activation keeps from the sweep, the seeds' rows and the ratio, on hand-made runs; then the
experiment at its tiny size, a real `python train.py -m` sweep read back from its files."""

import json
from pathlib import Path

import pytest

from alexnet.tables import read_csv
from experiments.lab.runs import Run, load_runs
from tests.experiments.conftest import load


def test_steps_to_target_error_interpolates_between_probes():
    module = load("relu_vs_tanh_runs")
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
    module = load("relu_vs_tanh_runs")
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
    module = load("relu_vs_tanh_runs")
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
    module = load("relu_vs_tanh_runs")
    chosen, table = module.choose_rates([sweep_run("relu", 0.1, [0.2, 0.9], dead=1.0)], 0.6)
    assert chosen == {} and table[0]["chosen"] == ""


def test_seed_rows_count_the_seeds_that_reached_the_target():
    module = load("relu_vs_tanh_runs")
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


def timed_run(activation: str, errors: list[float], seed: int, epochs: int | None = None) -> Run:
    """A run of `epochs` (default: as many as its probes) epochs of 10 steps, probed once an
    epoch after a probe at chance before training."""
    run = sweep_run(activation, 0.01, errors, seed=seed)
    run.config["trainer"] = {"max_epochs": epochs or len(errors)}
    return run


def test_the_mean_error_is_the_area_under_the_curve_over_the_horizon():
    module = load("relu_vs_tanh_runs")
    run = timed_run("relu", [0.5, 0.1], seed=1)  # probes (0, .9), (10, .5), (20, .1)
    # Trapezoids: 10 * (0.9 + 0.5) / 2 + 10 * (0.5 + 0.1) / 2 = 10, over 20 steps.
    assert module.mean_error(run, 20) == pytest.approx(0.5, abs=1e-12)
    assert module.mean_error(run, 10) == pytest.approx(0.7, abs=1e-12)  # cut at the horizon
    assert module.mean_error(run, 30) is None  # the run ended before it: no area


def test_a_tanh_run_that_never_crosses_is_censored_at_its_horizon():
    module = load("relu_vs_tanh_runs")
    stopped = timed_run("tanh", [0.8], seed=4, epochs=3)  # ended before its 3 epochs
    saturated = timed_run("tanh", [0.9, 0.9], seed=6)
    saturated.record["probe"][-1]["dead"] = {"act1": 1.0}
    runs = [
        timed_run("relu", [0.5, 0.2], seed=1),
        timed_run("tanh", [0.6, 0.2], seed=1),
        timed_run("relu", [0.5, 0.2], seed=2),
        timed_run("tanh", [0.8, 0.7], seed=2),  # never crossed 0.25 in its 2 epochs
        timed_run("relu", [0.8, 0.7], seed=3),  # ReLU never crossed: the pair goes
        timed_run("tanh", [0.5, 0.2], seed=3),
        timed_run("relu", [0.5, 0.2], seed=4),
        stopped,
        timed_run("relu", [0.5, 0.2], seed=5),  # no tanh run at all
        timed_run("relu", [0.5, 0.2], seed=6),
        saturated,  # a layer all dead, never crossed: it stays in, censored (and is flagged)
    ]
    steps, censored, removed = module.paired_steps(runs, 0.25)
    assert steps[2]["tanh"] == 20.0 and set(censored) == {2, 6}  # at the horizon: a bound
    assert steps[1]["tanh"] == pytest.approx(10 + 10 * 0.35 / 0.4, abs=1e-9)
    assert set(steps) == {1, 2, 6}
    assert removed == {
        3: "relu never reached the target",
        4: "tanh stopped before its horizon",
        5: "an arm has no run",
    }


def test_the_ratio_line_is_a_geometric_mean_of_seed_pairs():
    module = load("relu_vs_tanh_ratio")
    line = module.ratio_line(
        {1: {"relu": 10.0, "tanh": 20.0}, 2: {"relu": 10.0, "tanh": 80.0}, 3: {"relu": 10.0}},
        0.25,
        3,
        {2: "tanh never reached the target"},
    )
    assert "4.00x (geometric mean of 2 seed pairs)" in line  # sqrt(2 * 8), not (2 + 8) / 2
    assert "1 of 3 seed pairs left out" in line and "smallest detectable" in line
    assert "1 censored" in line


def test_the_area_ratio_pairs_seeds_run_to_their_horizon():
    module = load("relu_vs_tanh_ratio")
    runs = [
        timed_run("relu", [0.5, 0.1], seed=1),  # mean error 0.5
        timed_run("tanh", [0.9, 0.9], seed=1),  # mean error 0.9
        timed_run("relu", [0.5, 0.1], seed=2),
    ]
    assert module.area_ratios(runs) == {1: pytest.approx(1.8, abs=1e-12)}
    assert "1.80x" in module.area_line(module.area_ratios(runs))


@pytest.mark.slow
def test_relu_vs_tanh_sweeps_each_rate_then_fresh_seeds(tmp_path):
    module = load("relu_vs_tanh")
    analysis = load("relu_vs_tanh_runs")
    out = module.main(
        ["--size", "tiny", "--seeds", "2", "--out", str(tmp_path), "--target-error", "0.5"]
    )
    runs = json.loads((out / "runs.json").read_text())
    sweep = [r for r in runs if r["job"].startswith("lr_sweep_1/")]
    rule = load("relu_regime").tiny(0.5, 2)
    # Each activation and rate with both sweep seeds (the tiny rule: no edge rates added).
    assert len(sweep) == 2 * len(rule.rates) * len(rule.sweep_seeds)
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
        chosen
        == analysis.choose_rates([r for r in loaded if analysis.stage(r) == "lr_sweep_1"], 0.5)[0]
    )
    for name in ("relu", "tanh"):  # fresh seeds 1 and 2, each at its activation's own rate
        mine = [r for r in runs if r["job"].startswith(f"{name}/")]
        assert sorted(r["config"]["seed"] for r in mine) == [1, 2]
        assert {r["config"]["optimizer"]["lr"] for r in mine} == {chosen[name]}
    rows = {r["activation"]: r for r in read_csv(out / "relu_vs_tanh.csv")}
    assert set(rows) == {"relu", "tanh"} and all(r["seeds"] == "2" for r in rows.values())
    expected, _ = analysis.seed_rows(
        [r for r in loaded if analysis.stage(r) in ("relu", "tanh")], 0.5
    )
    assert [row["activation"] for row in expected] == ["relu", "tanh"]
    for row in expected:  # the seeds' rows (tested above) of these runs' histories
        written = rows[row["activation"]]
        assert written["reached_in"] == row["reached_in"]
        assert written["steps_to_0.5_train_error"] == row["steps_to_0.5_train_error"]
    text = (out / "relu_vs_tanh.md").read_text()
    assert "paper: 6x on CIFAR-10" in text and "tanh / ReLU" in text
    # The sweep's seeds too.
    assert json.loads((out / "provenance.json").read_text())["seeds"] == [0, 1, 2, 99]
    assert {r["config"]["data"]["seed"] for r in runs} == {0}  # one task
    assert all(r["config"]["model"]["init"] == "default" for r in runs)  # the same init
    assert all(r["record"]["probe"][0]["step"] == 0 for r in runs)  # probed before training
    assert (out / "relu_vs_tanh.png").is_file()
    assert "The task: tiny synthetic" in (out / "regime.md").read_text()
    assert "area under the training-error curves" in text
