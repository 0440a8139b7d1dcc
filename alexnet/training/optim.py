"""Optimizers and learning-rate schedules by name: the registries configs and code both read."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler

from alexnet.errors import InvalidValue, check_choice, check_finite, check_int, check_number

log = logging.getLogger(__name__)

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
# Each schedule and the config keys it reads (besides name and the warmup keys every one has).
SCHEDULE_KEYS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "multistep": ("milestones", "gamma"),
    "cosine": ("t_max", "eta_min"),
    "exponential": ("gamma",),
    "plateau": ("monitor", "mode", "factor", "patience", "min_lr"),
}
SCHEDULES: tuple[str, ...] = tuple(SCHEDULE_KEYS)
WARMUP_KEYS = ("warmup_steps", "warmup_start_factor")


def optimizer_arguments(name: str) -> list[str]:
    """The arguments optimizer `name` takes besides its parameters (lr, momentum, ...)."""
    check_choice("optimizer", name, OPTIMIZERS)
    return [
        key
        for key in inspect.signature(OPTIMIZERS[name].__init__).parameters
        if key not in ("self", "params", "defaults")
    ]


def check_optimizer(cfg: Mapping[str, Any]) -> None:
    """Raise InvalidValue for a bad optimizer config (name, lr, an argument it does not take)."""
    name = cfg.get("name")
    check_choice("optimizer", name, OPTIMIZERS)
    check_number("optimizer.lr", cfg.get("lr"), 0, low_open=True)
    allowed = optimizer_arguments(name)
    for key, value in cfg.items():
        if key != "name" and value is not None and key not in allowed:
            raise InvalidValue(
                f"optimizer.{key}",
                value,
                f"{name} takes no {key}; its arguments: {', '.join(allowed)}",
            )
    for key in ("weight_decay", "momentum"):
        if cfg.get(key) is not None:
            check_number(
                f"optimizer.{key}",
                cfg[key],
                0,
                1 if key == "momentum" else None,
                high_open=key == "momentum",
            )
    for key, value in cfg.items():  # the rest (eps, betas, dampening, ...): torch's to range
        if key != "name":
            check_finite(f"optimizer.{key}", value)


def check_schedule(cfg: Mapping[str, Any]) -> None:
    """Raise InvalidValue for a bad schedule config: a pure check, nothing is built."""
    name = cfg.get("name")
    check_choice("schedule", name, SCHEDULES)
    own = SCHEDULE_KEYS[name]
    for key, value in cfg.items():
        if key not in ("name", *WARMUP_KEYS, *own) and value is not None:
            raise InvalidValue(
                f"schedule.{key}",
                value,
                f"the {name} schedule takes no {key}; its keys: {', '.join((*own, *WARMUP_KEYS))}",
            )
    check_int("schedule.warmup_steps", cfg.get("warmup_steps") or 0, minimum=0)
    if cfg.get("warmup_start_factor") is not None:
        check_number(
            "schedule.warmup_start_factor", cfg["warmup_start_factor"], 0, 1, low_open=True
        )
    required = {
        "step": ("step_size", "gamma"),
        "multistep": ("milestones", "gamma"),
        "exponential": ("gamma",),
    }.get(name, ())
    for key in required:
        if cfg.get(key) is None:
            raise InvalidValue(f"schedule.{key}", None, f"the {name} schedule needs it")
    if cfg.get("step_size") is not None:
        check_int("schedule.step_size", cfg["step_size"], minimum=1)
    if cfg.get("gamma") is not None:
        check_number("schedule.gamma", cfg["gamma"], 0, low_open=True)
    milestones = cfg.get("milestones")
    if milestones is not None and (
        not list(milestones)
        or any(isinstance(m, bool) or not isinstance(m, int) or m < 1 for m in milestones)
        or list(milestones) != sorted(set(milestones))
    ):
        raise InvalidValue(
            "schedule.milestones",
            list(milestones),
            "it must be increasing epochs >= 1, e.g. [30, 60, 80]",
        )
    if cfg.get("t_max") is not None:
        check_int("schedule.t_max", cfg["t_max"], minimum=1)
    for key in ("eta_min", "min_lr"):
        if cfg.get(key) is not None:
            check_number(f"schedule.{key}", cfg[key], 0)
    if cfg.get("mode") is not None:
        check_choice("schedule.mode", cfg["mode"], ("max", "min"))
    if cfg.get("factor") is not None:
        check_number("schedule.factor", cfg["factor"], 0, 1, low_open=True, high_open=True)
    if cfg.get("patience") is not None:
        check_int("schedule.patience", cfg["patience"], minimum=0)


MIXED = ("16-mixed", "bf16-mixed")


def fused_policy(precision: str, gradient_clip_val: float | None) -> tuple[bool, str | None]:
    """Whether a fused optimizer can run under `precision` with this clipping, and if not why.
    A fused optimizer unscales fp16 gradients inside its step: Lightning's mixed precision then
    refuses to clip them, and under 16-mixed the divergence check and the GradScaler would see
    scaled gradients (the scaler must find an overflow's inf to back off)."""
    if precision in MIXED and gradient_clip_val:
        return False, (
            f"Lightning's {precision} cannot clip (trainer.gradient_clip_val="
            f"{gradient_clip_val}) the gradients of a fused optimizer"
        )
    if precision == "16-mixed":
        return False, (
            "under 16-mixed the GradScaler unscales the gradients before the "
            "divergence check only for an unfused optimizer"
        )
    return True, None


def build_optimizer(
    params: Iterable[torch.nn.Parameter],
    cfg: Mapping[str, Any],
    precision: str = "32-true",
    gradient_clip_val: float | None = None,
) -> torch.optim.Optimizer:
    """The optimizer `cfg["name"]` with the rest of `cfg` (lr, momentum, ...) as its arguments.

    `fused` (one kernel for the whole update; several times faster for AlexNet's 61M parameters)
    defaults to on, except where `fused_policy` says it cannot work (clipping under mixed
    precision, fp16's GradScaler); set ``fused: false`` for the per-parameter loop.
    """
    check_optimizer(cfg)
    cfg = {key: value for key, value in cfg.items() if value is not None}
    params = list(params)
    name = cfg.pop("name")
    allowed, why = fused_policy(str(precision), gradient_clip_val)
    if cfg.get("fused") and not allowed:
        raise InvalidValue(
            "optimizer.fused",
            True,
            f"with trainer.precision={precision}: {why}; leave it unset (null) or set it to false",
        )
    if cfg.get("fused") is None:
        cfg["fused"] = (
            allowed and bool(params) and all(p.device.type in ("cpu", "cuda") for p in params)
        )
        if not allowed and bool(params):
            log.info("The optimizer is not fused: %s", why)
    try:
        return OPTIMIZERS[name](params, **cfg)
    except (TypeError, ValueError) as err:  # an argument it does not take, or out of range
        raise InvalidValue(f"optimizer ({name})", cfg, str(err)) from None


def build_schedules(
    optimizer: torch.optim.Optimizer, cfg: Mapping[str, Any], max_epochs: int
) -> list[dict[str, Any]]:
    """Lightning lr_scheduler configs for schedule `cfg["name"]`, with its optional warmup.

    The main schedule steps once per epoch; a linear warmup over `warmup_steps` optimizer steps
    (0: none) steps per batch and multiplies it. Both scale the lr multiplicatively, so they chain.
    """
    check_schedule(cfg)
    cfg = {key: value for key, value in cfg.items() if value is not None}
    name = cfg.pop("name")
    warmup_steps = int(cfg.pop("warmup_steps", 0) or 0)
    warmup_start = float(cfg.pop("warmup_start_factor", 0.01))
    configs: list[dict[str, Any]] = []
    if warmup_steps > 0:
        warmup = lr_scheduler.LinearLR(
            optimizer, start_factor=warmup_start, end_factor=1.0, total_iters=warmup_steps
        )
        configs.append({"scheduler": warmup, "interval": "step", "name": "lr_warmup"})
    main = _main_schedule(optimizer, name, cfg, max_epochs)
    if main is not None:
        configs.append(main)
    return configs


def _main_schedule(
    optimizer: torch.optim.Optimizer, name: str, cfg: dict[str, Any], max_epochs: int
) -> dict[str, Any] | None:
    if name == "constant":
        return None
    if name == "step":
        scheduler = lr_scheduler.StepLR(optimizer, step_size=cfg["step_size"], gamma=cfg["gamma"])
    elif name == "multistep":
        scheduler = lr_scheduler.MultiStepLR(
            optimizer, milestones=list(cfg["milestones"]), gamma=cfg["gamma"]
        )
    elif name == "cosine":
        t_max = cfg.get("t_max") or max(1, max_epochs)
        scheduler = lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=t_max, eta_min=cfg.get("eta_min", 0.0)
        )
    elif name == "exponential":
        scheduler = lr_scheduler.ExponentialLR(optimizer, gamma=cfg["gamma"])
    else:  # plateau: the paper's divide-by-10 when the validation metric stops improving
        scheduler = lr_scheduler.ReduceLROnPlateau(
            optimizer,
            mode=cfg.get("mode", "max"),
            factor=cfg.get("factor", 0.1),
            patience=cfg.get("patience", 3),
            min_lr=cfg.get("min_lr", 0.0),
        )
        return {
            "scheduler": scheduler,
            "interval": "epoch",
            "name": "lr",
            "monitor": cfg.get("monitor", "val/acc1"),
            "strict": True,
        }
    return {"scheduler": scheduler, "interval": "epoch", "name": "lr"}
