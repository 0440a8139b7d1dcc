"""Bridges Hydra configs and the library: where the configs live, their resolvers, composing a
config in code, and models built from a config."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import nn

from alexnet.config import help as _help  # noqa: F401 - registers the help resolver
from alexnet.config.run_names import run_name, sweep_run_name
from alexnet.config.schemas import register_schemas
from alexnet.errors import InvalidValue, check_choice
from alexnet.models import PRESETS, create_model, knob_names

CONF_DIR = Path(__file__).resolve().parent / "conf"  # shipped inside the package


def slurm_gpus(accelerator: str, devices: Any) -> int | None:
    """GPUs per node to ask SLURM for: the trainer's devices when its accelerator is a GPU, else
    none (a CPU partition refuses a GPU request; `auto` asks for none: say trainer=gpu)."""
    if str(accelerator).lower() in ("gpu", "cuda"):
        return devices if isinstance(devices, int) else None
    return None


def _unique_suffix() -> str:
    # Microseconds and the process id: two runs started in the same second never share a dir.
    return f"{datetime.now():%f}-{os.getpid()}"


OmegaConf.register_new_resolver("uid", _unique_suffix, use_cache=True, replace=True)
# The loggers' run names (alexnet/config/run_names.py) and the MLflow store's absolute path.
OmegaConf.register_new_resolver("run_name", run_name, replace=True)
OmegaConf.register_new_resolver("sweep_run_name", sweep_run_name, replace=True)
OmegaConf.register_new_resolver("abspath", os.path.abspath, replace=True)
OmegaConf.register_new_resolver(
    "slurm_gpus", lambda accelerator, devices: slurm_gpus(accelerator, devices), replace=True
)
register_schemas()
# Knobs with groups of their own (activation, dropout): the model group sets the others.
GROUP_KNOBS = ("activation", "activation_params", "dropout")
# Model keys that are no create_model knobs: applied to the built model (alexnet/run/api.py).
WEIGHT_KEYS = ("weights", "freeze")


def model_knobs(preset: str) -> list[str]:
    """The knobs the model group may set for `preset` (activation and dropout have groups)."""
    return [k for k in knob_names(preset) if k not in GROUP_KNOBS]


def model_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """The `create_model` knobs that `cfg`'s model, activation and dropout groups set."""
    knobs = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(knobs, dict)
    preset = knobs.pop("preset")
    for key in WEIGHT_KEYS:
        knobs.pop(key, None)
    check_choice("model.preset", preset, PRESETS)
    allowed = model_knobs(preset)
    for key, value in knobs.items():
        if key not in allowed and value is not None:
            raise InvalidValue(
                f"model.{key}",
                value,
                f"the {preset} model has no such knob; its knobs: {', '.join(allowed)}",
            )
    kwargs = {key: value for key, value in knobs.items() if value is not None}
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    kwargs["activation"] = cfg.activation.name
    params = cfg.activation.get("params")
    kwargs["activation_params"] = OmegaConf.to_container(params, resolve=True) if params else {}
    kwargs["dropout"] = cfg.dropout.p
    return kwargs


def model_from_config(cfg: DictConfig, num_classes: int) -> nn.Module:
    """Build the model that `cfg` describes; a bad value's error names its config key."""
    kwargs = model_kwargs(cfg)
    try:
        return create_model(cfg.model.preset, num_classes=num_classes, **kwargs)
    except InvalidValue as err:
        raise err.renamed(config_key(err.key)) from None


def config_key(argument: str) -> str:
    """The config key that sets `create_model` argument `argument` (a config key stays one)."""
    if "." in argument:
        return argument
    return _CONFIG_KEYS.get(argument, f"model.{argument}")


_CONFIG_KEYS = {
    "name": "model.preset",
    "activation": "activation",
    "activation_params": "activation.params",
    "dropout": "dropout.p",
    "num_classes": "num_classes",
    "divergence_check": "divergence_check",
}


def compose_config(
    overrides: Sequence[str] = (),
    config_name: str = "train",
    output_dir: str | Path | None = None,
    with_hydra: bool = False,
) -> DictConfig:
    """The config `python <config_name>.py <overrides>` would run, composed in this process.

    Outside a Hydra job there is no Hydra run dir, so the run writes into `output_dir` (default:
    a fresh dir under ``paths.log_dir``/<task>/runs/, as the command line would make); the run
    creates it once the config has passed its checks. `with_hydra` keeps the ``hydra`` node
    (launcher, sweeper) in the result.
    """
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name=config_name, overrides=list(overrides), return_hydra_config=with_hydra
        )
    if "paths" not in cfg:  # a config that writes no run dir (summary)
        return cfg
    if output_dir is None:
        stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{_unique_suffix()}"
        task = str(cfg.get("task_name", config_name))
        output_dir = Path(cfg.paths.log_dir) / task / "runs" / stamp
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
    return cfg
