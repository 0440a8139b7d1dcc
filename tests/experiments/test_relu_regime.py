"""ReLU against tanh's regime (experiments/relu_regime.py): what qualifies a candidate task, the
rates beyond a grid edge, the declared cpu regime, and the overrides a run gets from it."""

import pytest

from tests.experiments.conftest import load
from tests.experiments.test_relu_vs_tanh import sweep_run


def regime(**changes):
    module = load("relu_regime")
    return module, module.Regime(
        **{
            **module.tiny(0.25, 1).__dict__,
            "min_epochs": 2.0,
            "room_epochs": 3.0,
            "dead_gate": 0.1,
            **changes,
        }
    )


def test_a_candidate_qualifies_only_if_the_slower_arm_is_slow_enough_and_healthy():
    module, rule = regime()
    # ReLU crosses 0.25 in epoch 1, tanh in epoch 3 (mean 2.x epochs: slow enough).
    fine = [
        sweep_run("relu", 0.01, [0.2], seed=0),
        sweep_run("relu", 0.01, [0.2], seed=99),
        sweep_run("tanh", 0.03, [0.8, 0.5, 0.2], seed=0),
        sweep_run("tanh", 0.03, [0.8, 0.5, 0.2], seed=99),
    ]
    kept = {"relu": 0.01, "tanh": 0.03}
    assert module.failures(fine, kept, rule) == []
    fast = [r for r in fine if r.config["activation"]["name"] == "relu"] + [
        sweep_run("tanh", 0.03, [0.3, 0.2], seed=0),  # crosses at step 15: 1.5 epochs
        sweep_run("tanh", 0.03, [0.3, 0.2], seed=99),
    ]
    assert module.failures(fast, kept, rule) == [
        "the slower activation (tanh) needs 1.5 epochs on average, under 2"
    ]
    late = fine[:3] + [sweep_run("tanh", 0.03, [0.8, 0.5, 0.4, 0.2], seed=99)]
    assert (
        "a sweep seed did not reach the target by epoch 3" in module.failures(late, kept, rule)[0]
    )
    sick = fine[:3] + [sweep_run("tanh", 0.03, [0.8, 0.5, 0.2], seed=99, dead=0.3)]
    assert module.failures(sick, kept, rule) == ["tanh at 0.03: a layer ends 0.30 dead"]
    assert module.failures(fine, {"relu": 0.01}, rule) == [
        "tanh kept no rate (every rate died or missed the target)"
    ]


def test_a_rate_kept_at_the_grids_edge_adds_two_rates_beyond_it():
    module = load("relu_regime")
    tried = {"relu": [0.01, 0.02, 0.04], "tanh": [0.01, 0.02, 0.04], "elu": [0.01, 0.02]}
    added = module.beyond_edge({"relu": 0.04, "tanh": 0.02, "elu": 0.02}, tried)
    assert added == {"relu": [0.05657, 0.08]}  # tanh inside the grid; elu: two rates only
    assert module.beyond_edge({"relu": 0.01}, tried) == {"relu": [0.00707, 0.005]}


def test_the_cpu_regime_is_the_declared_one():
    module = load("relu_regime")
    declared = module.declared()
    assert declared.declared == "experiments/declarations/relu_regime_v1.yaml"
    assert declared.target == 0.25 and declared.horizon == 60 and declared.seeds[0] == 1
    assert (declared.min_epochs, declared.room_epochs, declared.dead_gate) == (20, 45, 0.1)
    assert "data.batch_size=128" in declared.setup and "model=four_layer" in declared.setup
    assert declared.candidates[0][1] == ("data=synthetic_hard", "data.image_size=32")
    assert not set(declared.sweep_seeds) & set(declared.seeds)  # the choice's seeds apart
    assert module.declared(seeds=3).seeds == (1, 2, 3)


def test_the_cpu_target_cannot_be_changed_from_the_command_line(capsys):
    module = load("relu_vs_tanh")
    with pytest.raises(SystemExit, match="the target is declared"):
        module.main(["--size", "cpu", "--target-error", "0.3"])


def test_the_base_drops_the_keys_the_regime_sets():
    module = load("relu_vs_tanh")
    rule = load("relu_regime").declared()
    base = module.run_overrides(
        ["model=mini", "data.image_size=64", "data.num_workers=1"],
        rule,
        ("data=synthetic_hard", "data.image_size=32"),
    )
    assert "model=mini" not in base and "data.image_size=64" not in base
    assert "data.num_workers=1" in base and base.count("data.image_size=32") == 1


def test_a_declared_regime_never_keeps_a_rate_that_missed_the_target():
    runs = load("relu_vs_tanh_runs")
    sweep = [sweep_run("tanh", 0.01, [0.7, 0.65]), sweep_run("tanh", 0.03, [0.9, 0.62])]
    assert runs.choose_rates(sweep, 0.6)[0] == {"tanh": 0.03}  # v1's fallback: lowest final
    assert runs.choose_rates(sweep, 0.6, strict=True)[0] == {}  # the declared rule: none
