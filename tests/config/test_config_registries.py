"""Every config file agrees with the code's registries, group by group."""

import pytest
from omegaconf import OmegaConf

from alexnet.config.compose import CONF_DIR, WEIGHT_KEYS, compose_config, model_knobs
from alexnet.data.datamodule import SOURCES
from alexnet.models import activation_names, preset_names
from alexnet.models.activations import activation_defaults
from alexnet.training.optim import (
    OPTIMIZERS,
    SCHEDULE_KEYS,
    WARMUP_KEYS,
    check_optimizer,
    check_schedule,
)


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def group_node(group: str, option: str) -> dict:
    cfg = compose_config([f"{group}={option}"])
    return OmegaConf.to_container(cfg[group], resolve=True)


def test_every_registered_name_has_its_config_and_no_config_is_unregistered():
    assert options("activation") == sorted(activation_names())
    assert options("model") == sorted(preset_names())
    assert options("optimizer") == sorted(OPTIMIZERS)
    assert options("schedule") == sorted(SCHEDULE_KEYS)
    # Each data source has its config; synthetic_hard is the synthetic source's hard task.
    assert options("data") == sorted([*SOURCES, "synthetic_hard", "synthetic_hard_v1"])


@pytest.mark.parametrize("name", activation_names())
def test_activation_configs_name_themselves_and_their_parameters(name):
    node = group_node("activation", name)
    assert node["name"] == name
    assert set(node["params"]) == set(activation_defaults(name))


@pytest.mark.parametrize("preset", preset_names())
def test_model_configs_set_only_their_presets_knobs(preset):
    node = group_node("model", preset)
    assert node.pop("preset") == preset
    assert [node.pop(key) for key in WEIGHT_KEYS] == [None, "none"]  # no weights, none frozen
    set_knobs = {key for key, value in node.items() if value is not None}
    assert set_knobs <= set(model_knobs(preset))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_configs_pass_the_optimizer_check(name):
    node = group_node("optimizer", name)
    assert node["name"] == name
    check_optimizer(node)


@pytest.mark.parametrize("name", sorted(SCHEDULE_KEYS))
def test_schedule_configs_set_only_their_keys(name):
    node = group_node("schedule", name)
    assert node["name"] == name
    set_keys = {key for key, value in node.items() if value is not None} - {"name"}
    assert set_keys <= {*SCHEDULE_KEYS[name], *WARMUP_KEYS}
    check_schedule(node)


@pytest.mark.parametrize("source", SOURCES)
def test_data_configs_name_their_source(source):
    assert group_node("data", source)["source"] == source


@pytest.mark.parametrize(
    "group",
    [
        "ablation",
        "experiment",
        "debug",
        "trainer",
        "logger",
        "callbacks",
        "dropout",
        "hparams_search",
    ],
)
def test_every_option_of_every_other_group_composes(group):
    for option in options(group):
        compose_config([f"{group}={option}", "data.root=/data"], with_hydra=True)
