import pytest
import torch
from omegaconf import OmegaConf

from alexnet.config.compose import compose_config
from alexnet.training.optim import OPTIMIZERS, SCHEDULES, build_optimizer, build_schedules


def params():
    return [torch.nn.Parameter(torch.zeros(2))]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_build_with_their_arguments(name):
    optimizer = build_optimizer(params(), {"name": name, "lr": 0.5, "weight_decay": 0.1})
    assert type(optimizer) is OPTIMIZERS[name]
    assert optimizer.param_groups[0]["lr"] == 0.5
    assert optimizer.param_groups[0]["weight_decay"] == 0.1


def test_sgd_config_gives_the_papers_settings():
    cfg = compose_config(["optimizer=sgd"])
    optimizer = build_optimizer(params(), OmegaConf.to_container(cfg.optimizer))
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.01, 0.9, 5e-4)
    assert group["nesterov"] is False and type(optimizer) is torch.optim.SGD


@pytest.mark.parametrize(
    ("cfg", "pattern"),
    [
        (
            {"name": "rmsprop", "lr": 0.1},
            "optimizer='rmsprop' is not valid; choose one of: sgd, adam",
        ),
        ({"name": "sgd", "lr": 0}, r"optimizer.lr=0 is not valid; it must be a number > 0"),
        ({"name": "sgd", "lr": -1.0}, r"optimizer.lr=-1.0 is not valid"),
        ({"name": "adam", "lr": 0.1, "momentum": 0.9}, "momentum"),
    ],
)
def test_bad_optimizer_settings(cfg, pattern):
    with pytest.raises(ValueError, match=pattern):
        build_optimizer(params(), cfg)


def lrs_per_epoch(cfg, epochs=6, steps_per_epoch=2, metric=None):
    optimizer = build_optimizer(params(), {"name": "sgd", "lr": 1.0})
    configs = build_schedules(optimizer, cfg, max_epochs=epochs)
    seen = []
    for _epoch in range(epochs):
        for _ in range(steps_per_epoch):
            optimizer.step()
            for c in configs:
                if c["interval"] == "step":
                    c["scheduler"].step()
        seen.append(round(optimizer.param_groups[0]["lr"], 6))
        for c in configs:
            if c["interval"] == "epoch":
                c["scheduler"].step(metric) if "monitor" in c else c["scheduler"].step()
    return seen


# lrs_per_epoch rounds each lr to 6 places (Python float arithmetic, no tensor kernels), so
# the exact comparisons below compare those rounded values; pytest.approx allows that rounding.
def test_schedules_follow_their_rules():
    assert lrs_per_epoch({"name": "constant"}) == [1.0] * 6
    assert lrs_per_epoch({"name": "step", "step_size": 2, "gamma": 0.1}) == [
        1.0,
        1.0,
        0.1,
        0.1,
        0.01,
        0.01,
    ]
    assert lrs_per_epoch({"name": "multistep", "milestones": [1, 4], "gamma": 0.5}) == [
        1.0,
        0.5,
        0.5,
        0.5,
        0.25,
        0.25,
    ]
    assert lrs_per_epoch({"name": "exponential", "gamma": 0.5})[:3] == [1.0, 0.5, 0.25]
    cosine = lrs_per_epoch({"name": "cosine", "t_max": None, "eta_min": 0.0}, epochs=4)
    assert cosine == [
        1.0,
        pytest.approx(0.853553, abs=1e-6),
        0.5,
        pytest.approx(0.146447, abs=1e-6),
    ]
    # The paper's rule: a metric that stops improving divides the lr by 10.
    plateau = lrs_per_epoch({"name": "plateau", "patience": 1, "factor": 0.1}, metric=0.5)
    assert plateau == [1.0, 1.0, 1.0, 0.1, 0.1, 0.01]


def test_warmup_ramps_then_hands_over_to_the_schedule():
    lrs = lrs_per_epoch(
        {
            "name": "step",
            "step_size": 3,
            "gamma": 0.1,
            "warmup_steps": 4,
            "warmup_start_factor": 0.2,
        },
        epochs=5,
        steps_per_epoch=1,
    )
    assert lrs == [
        pytest.approx(0.4, abs=1e-6),
        pytest.approx(0.6, abs=1e-6),
        pytest.approx(0.8, abs=1e-6),
        0.1,
        0.1,
    ]  # rounded to 6 places


def test_every_schedule_accepts_a_warmup():
    own = {
        "step": {"step_size": 1, "gamma": 0.5},
        "multistep": {"milestones": [2], "gamma": 0.5},
        "exponential": {"gamma": 0.5},
    }
    for name in SCHEDULES:
        cfg = {"name": name, "warmup_steps": 2, **own.get(name, {})}
        assert lrs_per_epoch(cfg, steps_per_epoch=1, metric=0.1)[0] < 1.0


def test_unknown_schedule_lists_the_choices():
    with pytest.raises(ValueError, match="schedule='linear' is not valid; choose one of: constant"):
        lrs_per_epoch({"name": "linear"})
