"""Resuming from a checkpoint: what shapes the weights is the checkpoint's.

The model (preset, knobs, activation, dropout, freeze), the optimizer, the schedule, the label
smoothing and the data (all but how it is loaded: workers, caches, paths) are read from the
checkpoint's saved arguments and written into the run's config, so that the resumed run is the
run that was interrupted and its config.yaml says so. A value the command line changed from the
default that contradicts the checkpoint is one line naming both. How long to train and the
other trainer settings come from the run's config.yaml beside the checkpoint, where found,
unless the command line sets them (``trainer.max_epochs=8`` trains on).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from alexnet.errors import InvalidValue

log = logging.getLogger(__name__)

# Data settings that say how the data is loaded, not what it is: the command line's.
LOADING_KEYS = frozenset(
    {
        "root",
        "num_workers",
        "pin_memory",
        "persistent_workers",
        "prefetch_factor",
        "loader_timeout_s",
        "cache",
        "cache_limit_mib",
        "render_on",
        "decode",
        "download",
        "bad_files",
        "max_image_pixels",
        "eval_crop",
    }
)
# Settings of the run (not of the weights) taken from the run's config.yaml unless given.
RUN_KEYS = (
    "seed",
    "rng_offset",
    "checkpoint_every_n_steps",
    "test",
    "trainer.max_epochs",
    "trainer.max_steps",
    "trainer.min_epochs",
    "trainer.limit_train_batches",
    "trainer.limit_val_batches",
    "trainer.limit_test_batches",
    "trainer.accumulate_grad_batches",
    "trainer.gradient_clip_val",
    "trainer.gradient_clip_algorithm",
    "trainer.val_check_interval",
    "trainer.check_val_every_n_epoch",
    "trainer.deterministic",
)


def recorded_settings(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The settings that shaped a checkpoint's weights, as {config key: value}."""
    saved = checkpoint.get("hyper_parameters") or {}
    model = dict(saved.get("model") or {})
    model.pop("num_classes", None)  # the data's
    flat: dict[str, Any] = {
        "model.preset": model.pop("preset", "alexnet"),
        "activation.name": model.pop("activation", "relu"),
        "activation.params": model.pop("activation_params", None) or {},
        "dropout.p": model.pop("dropout", None),
        "model.freeze": saved.get("freeze") or "none",
        "label_smoothing": saved.get("label_smoothing", 0.0),
    }
    flat.update({f"model.{key}": value for key, value in model.items()})
    for group in ("optimizer", "schedule"):
        flat.update({f"{group}.{k}": v for k, v in (saved.get(group) or {}).items()})
    data = checkpoint.get("datamodule_hyper_parameters") or {}
    flat.update({f"data.{k}": v for k, v in data.items() if k not in LOADING_KEYS})
    return flat


def adopt_checkpoint(
    cfg: DictConfig,
    checkpoint: dict[str, Any],
    path: Path,
    defaults: DictConfig,
    overrides: list[str] = [],  # noqa: B006 - read only
) -> list[str]:
    """Write the checkpoint's settings into `cfg` (keys it changes: returned); a setting that
    `cfg` changed from `defaults`, or that `overrides` name, and that the checkpoint
    contradicts raises InvalidValue."""
    named = {o.lstrip("+~").split("=", 1)[0] for o in overrides}
    recorded = recorded_settings(checkpoint)
    knobs = [key for key in _model_knobs(cfg) if key not in recorded]
    recorded.update(dict.fromkeys(knobs))  # a knob the checkpoint's model does not set
    changed = []
    for key, value in recorded.items():
        given = _value(cfg, key)
        if _same(given, value):
            continue
        if not _same(given, _value(defaults, key)) or _names(named, key):
            raise InvalidValue(
                key,
                given,
                f"the checkpoint {path} was trained with {key}={value!r}; leave the setting "
                "out to resume it, or start a new run without ckpt_path",
            )
        changed.append(key)
    for key in changed:
        _set(cfg, key, recorded[key])
    run_config = path.parent.parent / "config.yaml"  # <run dir>/checkpoints/<file>.ckpt
    if run_config.is_file():
        trained = OmegaConf.load(run_config)
        for key in RUN_KEYS:
            value, given = OmegaConf.select(trained, key), _value(cfg, key)
            if value is not None and not _same(given, value):
                if _same(given, _value(defaults, key)):
                    _set(cfg, key, value)
                    changed.append(key)
    _check_epochs(cfg, checkpoint, path)
    if changed:
        log.info("Resuming with the checkpoint's %s", ", ".join(sorted(changed)))
    return changed


def _names(named: set[str], key: str) -> bool:
    """Does an override name `key`, or the group or node it is in (``model=mini``)?"""
    return any(key == name or key.startswith(f"{name}.") for name in named)


def _check_epochs(cfg: DictConfig, checkpoint: dict[str, Any], path: Path) -> None:
    """The checkpoint is in (or at the end of) epoch `epoch` (0-based): fewer epochs than
    that one's are a line, not Lightning's traceback."""
    epoch, max_epochs = checkpoint.get("epoch", 0), _value(cfg, "trainer.max_epochs")
    if isinstance(max_epochs, int) and 0 <= max_epochs < epoch + 1:
        raise InvalidValue(
            "trainer.max_epochs",
            max_epochs,
            f"the checkpoint {path} is in epoch {epoch + 1} of its run; set it to "
            f"{epoch + 1} or more to resume",
        )


def _model_knobs(cfg: DictConfig) -> list[str]:
    model = cfg.get("model") or {}
    return [f"model.{k}" for k in model if k not in ("preset", "weights", "freeze")]


def _value(cfg: DictConfig, key: str) -> Any:
    value = OmegaConf.select(cfg, key, throw_on_missing=False)
    if isinstance(value, DictConfig) or OmegaConf.is_list(value):
        return OmegaConf.to_container(value, resolve=True)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def _set(cfg: DictConfig, key: str, value: Any) -> None:
    with open_dict(cfg):
        OmegaConf.update(cfg, key, value, merge=False, force_add=True)
