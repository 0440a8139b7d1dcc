"""Bridges Hydra configs and the library: where the configs live, and models built from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from alexnet.models import AlexNet, create_model, knob_names
from alexnet.models.errors import InvalidValue

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# Knobs the model group sets; activation and dropout have groups of their own.
MODEL_KNOBS = [k for k in knob_names() if k not in ("activation", "activation_params", "dropout")]


def model_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """The `create_model` knobs that `cfg`'s model, activation and dropout groups set."""
    knobs = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(knobs, dict)
    knobs.pop("preset")
    for key in knobs:
        if key not in MODEL_KNOBS:
            raise InvalidValue(f"model.{key}", knobs[key], f"the model group's keys are: preset, "
                               f"{', '.join(MODEL_KNOBS)}")
    kwargs = {key: value for key, value in knobs.items() if value is not None}
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    kwargs["activation"] = cfg.activation.name
    params = cfg.activation.get("params")
    kwargs["activation_params"] = OmegaConf.to_container(params, resolve=True) if params else {}
    kwargs["dropout"] = cfg.dropout.p
    return kwargs


def model_from_config(cfg: DictConfig, num_classes: int) -> AlexNet:
    """Build the model that `cfg` describes; a bad value's error names its config key."""
    kwargs = model_kwargs(cfg)
    try:
        return create_model(cfg.model.preset, num_classes=num_classes, **kwargs)
    except InvalidValue as err:
        raise err.renamed(config_key(err.key)) from None


def config_key(argument: str) -> str:
    """The config key that sets `create_model` argument `argument`."""
    return _CONFIG_KEYS.get(argument, f"model.{argument}")


_CONFIG_KEYS = {
    "name": "model.preset",
    "activation": "activation",
    "activation_params": "activation.params",
    "dropout": "dropout.p",
    "num_classes": "num_classes",
}
