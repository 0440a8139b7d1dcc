"""Hydra mains: compose -> validate -> instantiate -> fit/test -> write metrics -> return a metric."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.errors import InstantiationException
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from alexnet.callbacks.history import MetricHistory
from alexnet.callbacks.rng_state import RNGState
from alexnet.checkpoints import AtomicCheckpointIO, check_checkpoint, resolve_checkpoint
from alexnet.config import CONF_DIR, config_key, model_kwargs
from alexnet.data import AlexNetDataModule, DataError
from alexnet.device_slots import take_device
from alexnet.errors import InvalidValue, check_choice, check_int
from alexnet.module import AlexNetModule, DivergenceError
from alexnet.optim import build_optimizer, build_schedules
from alexnet.run_record import write_record

log = logging.getLogger(__name__)


def _unique_suffix() -> str:
    # Microseconds and the process id: two runs started in the same second never share a dir.
    return f"{datetime.now():%f}-{os.getpid()}"


OmegaConf.register_new_resolver("uid", _unique_suffix, use_cache=True, replace=True)


def route_lightning_logs() -> None:
    """Send Lightning's messages through the root logger, so that the run's log file has them."""
    for name in ("lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        if logging.getLogger().handlers:
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train and test as `cfg` says; write the run's config and metrics.json into its dir.

    Everything that can be checked is checked before the first batch (config values, the data,
    the checkpoint to resume). A run that fails after that (a diverging loss, a crash) writes
    metrics.json with ``status: failed`` and the last good checkpoint, then re-raises.
    """
    route_lightning_logs()
    output_dir = Path(cfg.paths.output_dir)
    check_int("checkpoint_every_n_steps", cfg.get("checkpoint_every_n_steps", 0), minimum=0)
    if cfg.seed is not None:
        L.seed_everything(cfg.seed, workers=True)
    datamodule = _instantiate_datamodule(cfg.data)
    module = build_module(cfg, datamodule.num_classes)
    check_image_size(datamodule.image_size, module.model.min_input_size)
    ckpt_path = None
    if cfg.get("ckpt_path"):
        ckpt_path = resolve_checkpoint(cfg.ckpt_path)
        check_checkpoint(ckpt_path)
    loggers = [_instantiate(c, "logger") for c in (cfg.get("logger") or {}).values() if c]
    callbacks = [_instantiate(c, "callbacks") for c in (cfg.get("callbacks") or {}).values() if c]
    history = MetricHistory()
    callbacks += [history, RNGState()]
    if not loggers:  # nothing to write the learning rate to
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    trainer: L.Trainer = _instantiate(cfg.trainer, "trainer", callbacks=callbacks,
                                      logger=loggers or False, plugins=[AtomicCheckpointIO()])
    if trainer.is_global_zero:
        OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
        log.info("Training model=%s activation=%s dropout=%s on %s data (%d classes), "
                 "optimizer=%s lr=%s schedule=%s; run dir %s", cfg.model.preset,
                 cfg.activation.name, cfg.dropout.p, cfg.data.source, datamodule.num_classes,
                 cfg.optimizer.name, cfg.optimizer.lr, cfg.schedule.name, output_dir)
        if ckpt_path:
            log.info("Resuming from %s", ckpt_path)
    started = time.perf_counter()
    summary: dict[str, Any] = {"status": "running", "resumed_from": str(ckpt_path or "") or None,
                               "overrides": _overrides(), "device_slot": cfg.get("device_slot")}
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        metrics = _scalars(trainer.callback_metrics)
        if cfg.get("test") and not trainer.fast_dev_run:
            best = _best_checkpoint(trainer)
            trainer.test(module, datamodule=datamodule, ckpt_path=best, weights_only=True)
            metrics.update(_scalars(trainer.callback_metrics))
        summary.update(status="completed", metrics=metrics)
    except BaseException as err:
        summary.update(status="failed", error=f"{type(err).__name__}: {err}",
                       metrics=_scalars(trainer.callback_metrics),
                       last_good_checkpoint=_last_checkpoint(trainer))
        if trainer.is_global_zero:
            log.error("Run failed: %s", summary["error"])
            log.error("Kept: %s; resume with ckpt_path=%s", summary["last_good_checkpoint"],
                      output_dir)
        raise
    finally:
        _finish(trainer, summary, history, started, output_dir)
        _end_job(trainer)
    if trainer.is_global_zero:
        log.info("Final metrics: %s", json.dumps(summary["metrics"]))
        log.info("Run dir: %s", output_dir)
        log.info("TensorBoard: tensorboard --logdir %s", output_dir)
    return summary


def _finish(trainer: L.Trainer, summary: dict[str, Any], history: MetricHistory, started: float,
            output_dir: Path) -> None:
    """Complete `summary` and write it as the run's metrics.json (rank zero)."""
    summary.update(epochs=trainer.current_epoch, global_step=trainer.global_step,
                   best_checkpoint=_best_checkpoint(trainer),
                   wall_time_s=round(time.perf_counter() - started, 1), history=history.epochs)
    if trainer.is_global_zero:
        write_record(output_dir, summary)


def _end_job(trainer: L.Trainer) -> None:
    end_job = getattr(trainer.strategy, "end_job", None)  # HydraDDPStrategy: release the ranks
    if end_job is not None:
        end_job()


def check_image_size(image_size: int, minimum: int) -> None:
    """The model must fit the images: fail before training, naming data.image_size."""
    if image_size < minimum:
        raise InvalidValue("data.image_size", image_size,
                           f"this model needs images of at least {minimum}x{minimum} pixels")


def build_module(cfg: DictConfig, num_classes: int) -> AlexNetModule:
    """The AlexNetModule `cfg` describes; a bad model, optimizer or schedule fails here, early."""
    optimizer = OmegaConf.to_container(cfg.optimizer, resolve=True)
    schedule = OmegaConf.to_container(cfg.schedule, resolve=True)
    probe = [torch.nn.Parameter(torch.zeros(1))]
    build_schedules(build_optimizer(probe, optimizer), schedule, max_epochs=1)
    try:
        return AlexNetModule(
            model={"preset": cfg.model.preset, "num_classes": num_classes, **model_kwargs(cfg)},
            optimizer=optimizer, schedule=schedule, label_smoothing=cfg.label_smoothing,
            channels_last=bool(cfg.get("channels_last")), compile=bool(cfg.get("compile")))
    except InvalidValue as err:
        raise err.renamed(config_key(err.key)) from None


def _instantiate(node: DictConfig, group: str, **kwargs: Any) -> Any:
    """Instantiate a config node; a value Lightning (or a callback) rejects becomes one line
    naming the group, the overrides given for it, and the library's reason."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, InvalidValue):
            raise cause from None
        if not isinstance(cause, (ValueError, TypeError, MisconfigurationException)):
            raise
        given = " ".join(o for o in _overrides() if o.lstrip("+~").startswith(group)) or "defaults"
        raise InvalidValue(group, given, f"{type(cause).__name__}: {cause}") from None


def _instantiate_datamodule(data_cfg: DictConfig) -> AlexNetDataModule:
    try:
        return instantiate(data_cfg)
    except InstantiationException as err:  # unwrap our own errors from Hydra's wrapper
        if isinstance(err.__cause__, (InvalidValue, DataError)):
            raise err.__cause__ from None
        raise


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Evaluate checkpoint `cfg.ckpt_path` on `cfg.split`; write metrics.json into the run dir.

    The data settings come from the checkpoint; any non-null `cfg.data` key overrides one.
    """
    check_choice("split", cfg.split, ("val", "test"))
    if not cfg.get("ckpt_path"):
        raise InvalidValue("ckpt_path", cfg.get("ckpt_path"), "set it to a .ckpt file or a run dir")
    path = resolve_checkpoint(cfg.ckpt_path)
    check_checkpoint(path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    data_args = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    data_args.update({k: v for k, v in OmegaConf.to_container(cfg.data, resolve=True).items()
                      if v is not None})
    datamodule = AlexNetDataModule(**data_args)
    module = AlexNetModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    trainer: L.Trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    run = trainer.validate if cfg.split == "val" else trainer.test
    run(module, datamodule=datamodule)
    summary = {
        "status": "completed",
        "checkpoint": str(path.resolve()),
        "split": cfg.split,
        "eval_crop": datamodule.eval_crop,
        "metrics": _scalars(trainer.callback_metrics),
        "overrides": _overrides(),
    }
    output_dir = Path(cfg.paths.output_dir)
    if trainer.is_global_zero:
        write_record(output_dir, summary)
        log.info("Metrics: %s", summary["metrics"])
        log.info("Run dir: %s", output_dir)
    return summary


def _scalars(metrics: dict[str, torch.Tensor]) -> dict[str, float]:
    return {key: round(float(value), 6) for key, value in sorted(metrics.items())
            if key.count("/") == 1 and not key.endswith(("_step", "_epoch"))}


def _last_checkpoint(trainer: L.Trainer) -> str | None:
    """The newest checkpoint any checkpoint callback wrote, if one did."""
    paths = [Path(p) for c in trainer.checkpoint_callbacks
             for p in (getattr(c, "last_model_path", ""), getattr(c, "best_model_path", ""))
             if p and Path(p).is_file()]
    return str(max(paths, key=lambda p: p.stat().st_mtime)) if paths else None


def _best_checkpoint(trainer: L.Trainer) -> str | None:
    callback = trainer.checkpoint_callback
    return getattr(callback, "best_model_path", None) or None


def _overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def _fail(err: Exception, unused_dir: Path | None = None) -> None:
    """One line on stderr and a non-zero exit; `unused_dir`, a run dir that holds nothing but
    Hydra's own files, is removed (a mistake caught before training leaves no trace)."""
    if unused_dir is not None and _remove_if_empty(unused_dir):
        sys.exit(f"error: {err}")  # its log file is gone with it
    log.error("%s", err)
    sys.exit(f"error: {err}")


@hydra.main(config_path=str(CONF_DIR), config_name="train", version_base="1.3")
def train_main(cfg: DictConfig) -> float | None:
    """`python train.py ...`: returns the metric a sweeper optimizes (`optimized_metric`).

    In a sweep, a failed job returns None (Optuna records the trial as failed, the basic sweeper
    goes on; each job's metrics.json says what happened); a single run exits non-zero with one
    line for a user mistake.
    """
    output_dir = Path(cfg.paths.output_dir)
    slot = None
    try:
        slot = take_device(cfg) if _in_sweep() else None
        summary = train(cfg)
    except (InvalidValue, DataError) as err:
        if _in_sweep():
            _record_failure(output_dir, err)
            return None
        _fail(err, unused_dir=output_dir)
    except DivergenceError as err:
        if _in_sweep():
            return None
        _fail(err)
    except Exception:
        if _in_sweep():
            log.exception("Job failed; the sweep goes on")
            return None
        raise
    finally:
        if slot is not None:
            slot.release()
    metric = summary["metrics"].get(cfg.get("optimized_metric") or "")
    return metric


def _in_sweep() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _record_failure(output_dir: Path, err: Exception) -> None:
    """metrics.json of a job that failed before training started."""
    log.error("%s", err)
    summary = {"status": "failed", "error": f"{type(err).__name__}: {err}", "metrics": {},
               "overrides": _overrides()}
    write_record(output_dir, summary)


def _remove_if_empty(output_dir: Path) -> bool:
    """Remove a run dir that holds nothing but Hydra's own files; True if it is gone."""
    if not output_dir.is_dir():
        return False
    if any(entry.name != ".hydra" and entry.suffix != ".log" for entry in output_dir.iterdir()):
        return False
    root = logging.getLogger()
    for handler in list(root.handlers):  # Hydra's log file lives in the dir
        if isinstance(handler, logging.FileHandler) and \
                Path(handler.baseFilename).parent == output_dir.resolve():
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(output_dir, ignore_errors=True)
    return True


@hydra.main(config_path=str(CONF_DIR), config_name="eval", version_base="1.3")
def eval_main(cfg: DictConfig) -> None:
    """`python eval.py ckpt_path=... [split=val|test] [data.eval_crop=ten_crop]`."""
    try:
        evaluate(cfg)
    except (InvalidValue, DataError) as err:
        _fail(err, unused_dir=Path(cfg.paths.output_dir))
