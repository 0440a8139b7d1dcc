"""Hydra's sweep syntax as an Optuna search space (alexnet/launch/search_space.py)."""

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from alexnet.errors import InvalidValue
from alexnet.launch import search_space


def test_each_sweep_form_becomes_its_distribution_and_the_rest_stays_fixed():
    space, fixed = search_space.parse(
        {"optimizer.lr": "tag(log, interval(1e-5, 1e-3))", "dropout.p": "choice(0.0, 0.5)"},
        [
            "activation=choice(relu, tanh)",
            "data.batch_size=range(16, 65, 16)",
            "+model.width=tag(int, interval(1, 8))",
            "w=range(0.1, 0.4, 0.1)",
            "seed=3",
            "+callbacks.x._target_=a.B",
            "dropout.p=0.25",
        ],
    )
    assert space["optimizer.lr"] == FloatDistribution(1e-5, 1e-3, log=True)
    assert space["activation"] == CategoricalDistribution(["relu", "tanh"])
    assert space["data.batch_size"] == IntDistribution(16, 64, step=16)  # range's stop excluded
    assert space["+model.width"] == IntDistribution(1, 8)
    assert isinstance(space["w"], FloatDistribution) and space["w"].step == pytest.approx(0.1)
    assert "dropout.p" not in space  # the command line's fixed value wins over params
    assert fixed == ["seed=3", "+callbacks.x._target_=a.B", "dropout.p=0.25"]


def test_a_trial_draws_inside_its_space_and_becomes_overrides():
    space, fixed = search_space.parse(None, ["a=range(1, 4)", "b=choice(x, y)", "c=2"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask(fixed_distributions=space)
    assert trial.params["a"] in (1, 2, 3) and trial.params["b"] in ("x", "y")
    assert search_space.trial_overrides(trial.params, fixed) == [
        f"a={trial.params['a']}",
        f"b={trial.params['b']}",
        "c=2",
    ]


def test_a_grid_lists_every_value_and_refuses_an_interval():
    space, _ = search_space.parse(None, ["a=range(0, 10, 5)", "b=choice(x, y)"])
    assert search_space.grid(space) == {"a": [0, 5], "b": ["x", "y"]}
    space, _ = search_space.parse(None, ["lr=interval(0.1, 1.0)"])
    with pytest.raises(InvalidValue, match="lr.*GridSampler needs choice"):
        search_space.grid(space)
