"""nan and +-inf are no numbers a run can use: every number read from the config is checked for
being finite, by the check of its key (with its range) and, on the command line, by one check
over the whole composed config (keys the lab leaves to torch or Lightning too)."""

import math

import pytest
import torch

from alexnet.config.overrides_check import check_command_line
from alexnet.data.datamodule import AlexNetDataModule
from alexnet.data.imagefolder import stratified_split
from alexnet.data.settings_check import given_stats
from alexnet.errors import InvalidValue, check_finite, check_number
from alexnet.run.setup import check_run_options
from alexnet.training.optim import build_optimizer, check_optimizer, check_schedule
from tests.conftest import compose_train
from tests.support.train_runs import train_error

NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("optimizer.lr=nan", "optimizer.lr=nan is not valid; it must be a finite number"),
        ("optimizer.lr=inf", "optimizer.lr=inf is not valid; it must be a finite number"),
        (
            "optimizer.weight_decay=nan",
            "optimizer.weight_decay=nan is not valid; it must be a finite number",
        ),
        (
            "data.loader_timeout_s=nan",
            "data.loader_timeout_s=nan is not valid; it must be a finite number",
        ),
        ("model.lrn_scale=-inf", "model.lrn_scale=-inf is not valid; it must be a finite number"),
        (
            "data.mean=[0.5,nan,0.5]",
            "data.mean=[0.5, nan, 0.5] is not valid; each of its items must be a finite number",
        ),
    ],
)
def test_a_non_finite_number_stops_train_py_with_one_line(monkeypatch, tmp_path, override, line):
    # train.py's entry point in this process: its exit message is the one line a user sees
    # (tests/launch/test_sweeps.py starts real processes for a bad override).
    assert train_error(monkeypatch, tmp_path, "model=mini", "trainer=cpu", override) == (
        f"error: {line}"
    )
    assert not list(tmp_path.glob("train/*/*"))  # no run dir


def test_a_non_finite_sweep_value_stops_the_sweep_before_it_starts():
    with pytest.raises(InvalidValue, match=r"^optimizer.lr=nan is not valid; it must be a fin"):
        check_command_line(["-m", "optimizer.lr=0.1,nan", "model=mini"], "train")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["-m", "hydra/launcher=slurm", "hydra.launcher.vanished_grace_s=inf", "seed=1,2"],
            "hydra.launcher.vanished_grace_s=inf is not valid; it must be a finite number",
        ),
        (
            ["-m", "hydra/launcher=slurm", "hydra.launcher.poll_s=inf", "seed=1,2"],
            "hydra.launcher.poll_s=inf is not valid; it must be a finite number",
        ),
    ],
)
def test_a_non_finite_launcher_setting_is_refused_before_anything_is_submitted(argv, line):
    with pytest.raises(InvalidValue) as refused:
        check_command_line(argv, "train")
    assert str(refused.value) == line


@pytest.mark.parametrize("config_name", ["train", "eval", "interpret"])
def test_the_shipped_configs_hold_only_finite_numbers(config_name):
    check_command_line([], config_name)


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize(
    ("bounds", "allowed"),
    [
        ({}, "it must be a finite number"),
        ({"low": 0, "low_open": True}, "it must be a finite number > 0"),
        ({"low": 0}, "it must be a finite number >= 0"),
        ({"low": 0, "high": 1, "high_open": True}, r"it must be a finite number in \[0, 1\)"),
    ],
)
def test_check_number_refuses_nan_and_infinities(value, bounds, allowed):
    with pytest.raises(InvalidValue, match=f"^x={value!r} is not valid; {allowed}$"):
        check_number("x", value, **bounds)


def test_check_number_still_takes_finite_numbers_and_says_number_for_the_rest():
    check_number("x", 10**400, 0)  # an int too big for a float is finite
    check_number("x", 0.5, 0, 1)
    with pytest.raises(InvalidValue, match=r"^x=-1 is not valid; it must be a number >= 0$"):
        check_number("x", -1, 0)


def test_check_finite_walks_lists_and_mappings():
    check_finite("cfg", {"a": [1, 2.5], "b": {"c": "nan", "d": None}})
    with pytest.raises(InvalidValue, match=r"^cfg.b.c=inf is not valid; it must be a finite"):
        check_finite("cfg", {"a": [1, 2.5], "b": {"c": math.inf}})
    with pytest.raises(InvalidValue, match=r"^cfg.a=\[1, nan\] is not valid; each of its items"):
        check_finite("cfg", {"a": (1, math.nan)})


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize(
    ("key", "base"),
    [
        ("lr", {"name": "sgd", "lr": 0.1}),
        ("weight_decay", {"name": "adamw", "lr": 0.1}),
        ("momentum", {"name": "sgd", "lr": 0.1}),
        ("dampening", {"name": "sgd", "lr": 0.1}),
        ("eps", {"name": "adam", "lr": 0.1}),
    ],
)
def test_the_optimizer_check_refuses_non_finite_arguments(key, base, value):
    with pytest.raises(InvalidValue, match=f"^optimizer.{key}={value!r} is not valid; it must"):
        check_optimizer({**base, key: value})


def test_the_optimizer_check_refuses_non_finite_betas():
    with pytest.raises(InvalidValue, match=r"^optimizer.betas=\[0.9, nan\] is not valid; each"):
        check_optimizer({"name": "adam", "lr": 0.1, "betas": [0.9, math.nan]})


def test_an_argument_torch_refuses_is_one_invalid_value_too():
    params = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(InvalidValue, match=r"^optimizer \(adam\)=.* Invalid epsilon value: -1.0$"):
        build_optimizer(params, {"name": "adam", "lr": 0.1, "eps": -1.0})


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("warmup_start_factor", "constant"),
        ("gamma", "step"),
        ("gamma", "exponential"),
        ("eta_min", "cosine"),
        ("min_lr", "plateau"),
        ("factor", "plateau"),
    ],
)
def test_the_schedule_check_refuses_non_finite_values(key, name, value):
    cfg = {"name": name, "step_size": 1, key: value}
    if name != "step":
        cfg.pop("step_size")
    with pytest.raises(InvalidValue, match=f"^schedule.{key}={value!r} is not valid; it must be"):
        check_schedule(cfg)


@pytest.mark.parametrize("value", NON_FINITE)
@pytest.mark.parametrize("key", ["loader_timeout_s", "pca_sigma"])
def test_the_data_settings_refuse_non_finite_values(key, value):
    with pytest.raises(InvalidValue, match=f"^data.{key}={value!r} is not valid; it must be a fi"):
        AlexNetDataModule(**{key: value})


@pytest.mark.parametrize("value", NON_FINITE)
def test_data_stats_and_the_val_fraction_refuse_non_finite_values(value):
    with pytest.raises(InvalidValue, match=r"^data.mean=.* is not valid; each of its items"):
        given_stats("data", [0.5, value, 0.5], [0.2, 0.2, 0.2])
    with pytest.raises(InvalidValue, match=r"^data.std=.* is not valid; each of its items"):
        given_stats("data", [0.5, 0.5, 0.5], [0.2, value, 0.2])
    with pytest.raises(InvalidValue, match=r"^data.val_fraction=.* is not valid; it must be a fi"):
        stratified_split([0, 0, 1, 1], value, 0)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", ["label_smoothing", "sigterm_grace_s"])
def test_the_run_options_refuse_non_finite_values(key, value):
    with pytest.raises(InvalidValue, match=f"^{key}={value} is not valid; it must be a finite"):
        check_run_options(compose_train(f"{key}={value}"))
