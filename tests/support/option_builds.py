"""Compose the train config for some overrides and build what train() gets from it (the module, the
datamodule, the optimizer and schedules), without training: the helpers of the option tests
(tests/models/test_model_options.py, tests/training/test_training_options.py,
tests/config/test_composed_options.py)."""

from pathlib import Path

import torch
from hydra.utils import instantiate
from torch import nn

from alexnet.config.compose import CONF_DIR
from alexnet.run.setup import build_module, check_run_options
from tests.conftest import TINY, compose_train


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if p.stem != "default")


def compose(tmp_path: Path, *overrides: str, tiny: bool = True):
    cfg = compose_train(
        *(TINY if tiny else []),
        f"paths.log_dir={tmp_path}",
        *overrides,
        output_dir=tmp_path / "run",
    )
    check_run_options(cfg)
    return cfg


def build(tmp_path: Path, *overrides: str, tiny: bool = True):
    """The config, module and datamodule train() builds for `overrides` (on TINY's data)."""
    cfg = compose(tmp_path, *overrides, tiny=tiny)
    datamodule = instantiate(cfg.data)
    return cfg, build_module(cfg, datamodule.num_classes), datamodule


def optimizer_and_schedules(cfg, module):
    """What Lightning gets from configure_optimizers under the trainer `cfg` builds."""
    module.trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    built = module.configure_optimizers()
    if isinstance(built, torch.optim.Optimizer):
        return built, []
    (optimizer,), schedules = built
    return optimizer, schedules


def of_type(model: nn.Module, *types: type) -> list[nn.Module]:
    return [m for m in model.modules() if type(m) in types]
