"""Optimizers and learning-rate schedules by name: the registries configs and code both read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler

from alexnet.errors import InvalidValue, check_choice

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
# Each schedule: its torch scheduler and how its config keys map to the scheduler's arguments.
SCHEDULES: tuple[str, ...] = (
    "constant", "step", "multistep", "cosine", "exponential", "plateau")


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: Mapping[str, Any]
                    ) -> torch.optim.Optimizer:
    """The optimizer `cfg["name"]` with the rest of `cfg` (lr, momentum, ...) as its arguments.

    `fused` (one kernel for the whole update; several times faster for AlexNet's 61M parameters)
    defaults to on; set ``fused: false`` for the per-parameter loop.
    """
    cfg = dict(cfg)
    params = list(params)
    name = cfg.pop("name")
    check_choice("optimizer", name, OPTIMIZERS)
    lr = cfg.get("lr")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise InvalidValue("optimizer.lr", lr, "it must be a number > 0")
    if cfg.get("fused") is None:
        cfg["fused"] = all(p.device.type in ("cpu", "cuda") for p in params) and bool(params)
    try:
        return OPTIMIZERS[name](params, **cfg)
    except TypeError as err:  # an argument the optimizer does not take
        raise InvalidValue(f"optimizer ({name})", cfg, str(err)) from None


def build_schedules(optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], max_epochs: int
                    ) -> list[dict[str, Any]]:
    """Lightning lr_scheduler configs for schedule `cfg["name"]`, with its optional warmup.

    The main schedule steps once per epoch; a linear warmup over `warmup_steps` optimizer steps
    (0: none) steps per batch and multiplies it. Both scale the lr multiplicatively, so they chain.
    """
    cfg = dict(cfg)
    name = cfg.pop("name")
    check_choice("schedule", name, SCHEDULES)
    warmup_steps = int(cfg.pop("warmup_steps", 0) or 0)
    warmup_start = float(cfg.pop("warmup_start_factor", 0.01))
    configs: list[dict[str, Any]] = []
    if warmup_steps > 0:
        warmup = lr_scheduler.LinearLR(optimizer, start_factor=warmup_start, end_factor=1.0,
                                       total_iters=warmup_steps)
        configs.append({"scheduler": warmup, "interval": "step", "name": "lr_warmup"})
    main = _main_schedule(optimizer, name, cfg, max_epochs)
    if main is not None:
        configs.append(main)
    return configs


def _main_schedule(optimizer: torch.optim.Optimizer, name: str, cfg: dict[str, Any],
                   max_epochs: int) -> dict[str, Any] | None:
    if name == "constant":
        return None
    if name == "step":
        scheduler = lr_scheduler.StepLR(optimizer, step_size=cfg["step_size"], gamma=cfg["gamma"])
    elif name == "multistep":
        scheduler = lr_scheduler.MultiStepLR(optimizer, milestones=list(cfg["milestones"]),
                                             gamma=cfg["gamma"])
    elif name == "cosine":
        t_max = cfg.get("t_max") or max(1, max_epochs)
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=t_max,
                                                   eta_min=cfg.get("eta_min", 0.0))
    elif name == "exponential":
        scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=cfg["gamma"])
    else:  # plateau: the paper's divide-by-10 when the validation metric stops improving
        scheduler = lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=cfg.get("mode", "max"), factor=cfg.get("factor", 0.1),
            patience=cfg.get("patience", 3), min_lr=cfg.get("min_lr", 0.0))
        return {"scheduler": scheduler, "interval": "epoch", "name": "lr",
                "monitor": cfg.get("monitor", "val/acc1"), "strict": True}
    return {"scheduler": scheduler, "interval": "epoch", "name": "lr"}
