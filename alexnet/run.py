"""The run API: train or evaluate a composed config and write the run's record.

train.py, eval.py, the experiments, the notebook and the tests all run through here; the
command line's process policy (exit codes, one-line errors, sweeps) is alexnet/cli.py's.

    from alexnet.config import compose_config
    from alexnet.run import train
    record = train(compose_config(["model=mini", "trainer.max_epochs=2"]))
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.plugins.environments import SLURMEnvironment
from omegaconf import DictConfig, OmegaConf

from alexnet.callbacks.divergence import DIVERGENCE_CHECKS, DivergenceGuard
from alexnet.callbacks.history import MetricHistory
from alexnet.callbacks.rng_state import RNGState
from alexnet.checkpoints import AtomicCheckpointIO, check_checkpoint, resolve_checkpoint
from alexnet.config import config_key, model_kwargs
from alexnet.console import quiet_console
from alexnet.data import AlexNetDataModule
from alexnet.errors import DataError, InvalidValue, check_choice, check_int, check_number
from alexnet.launch.requeue import (
    REQUEUE_CHECKPOINT,
    Requeued,
    RequeueOnSignal,
    requested,
    requeue,
    requeued,
    restart_count,
)
from alexnet.launch.sigterm import SigtermBound
from alexnet.models.weights import load_weights
from alexnet.module import AlexNetModule
from alexnet.optim import check_optimizer, check_schedule
from alexnet.run_record import write_record
from alexnet.trackers import TrackerParams, check_trackers, finish_trackers

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train and test as `cfg` says; write the run's config and metrics.json into its dir.

    Everything that can be checked is checked before the first batch (config values, the data,
    the checkpoint to resume). A run that fails after that (a diverging loss, a crash) writes
    metrics.json with ``status: failed`` and the last good checkpoint, then re-raises.
    """
    quiet_console()
    output_dir = Path(cfg.paths.output_dir)
    check_run_options(cfg)
    if cfg.seed is not None:
        L.seed_everything(cfg.seed, workers=True)
    datamodule = _instantiate_datamodule(cfg.data)
    module = build_module(cfg, datamodule.num_classes)
    datamodule.fit_to_model(module.model.min_input_size)
    weights = getattr(module, "weights_info", None)
    if weights and weights["mean"] is not None and weights["std"] is not None:
        datamodule.follow_weights((weights["mean"], weights["std"]), weights["source"])
    check_image_size(datamodule.image_size, module.model.min_input_size)
    # Lightning's model summary counts the forward FLOPs of this one image (else "FLOPs: 0").
    size = datamodule.image_size
    module.example_input_array = torch.zeros(1, 3, size, size)
    ckpt_path = None
    if cfg.get("ckpt_path"):
        ckpt_path = resolve_checkpoint(cfg.ckpt_path)
    elif restart_count() and list((output_dir / "checkpoints").glob("*.ckpt")):
        ckpt_path = resolve_checkpoint(output_dir)  # a requeued SLURM job: where it stopped
    if ckpt_path:
        check_checkpoint(ckpt_path)
    loggers = [_instantiate(c, f"logger.{name}")
               for name, c in (cfg.get("logger") or {}).items() if c]
    callbacks = [_instantiate(c, f"callbacks.{name}")
                 for name, c in (cfg.get("callbacks") or {}).items() if c]
    history = MetricHistory()
    bound = SigtermBound(float(cfg.get("sigterm_grace_s", 30.0)))
    callbacks += [DivergenceGuard(cfg.get("divergence_check", "auto")), history, RNGState(),
                  TrackerParams(), bound]
    if not loggers:  # nothing to write the learning rate to
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    plugins: list[Any] = [AtomicCheckpointIO()]
    if SLURMEnvironment.detect():  # launch/requeue.py requeues; Lightning's auto-requeue is off
        plugins.append(SLURMEnvironment(auto_requeue=False))
        callbacks.append(RequeueOnSignal(output_dir / "checkpoints" / REQUEUE_CHECKPOINT))
    trainer: L.Trainer = _instantiate(cfg.trainer, "trainer", callbacks=callbacks,
                                      logger=loggers or False, plugins=plugins)
    if trainer.strategy.root_device.type == "cuda":  # TF32 matmuls and convs unless "highest"
        torch.set_float32_matmul_precision(cfg.get("matmul_precision", "high"))
        torch.backends.cudnn.allow_tf32 = cfg.get("matmul_precision", "high") != "highest"
        log.info("float32 matmul precision on CUDA: %s (matmul_precision)",
                 cfg.get("matmul_precision", "high"))
    if trainer.is_global_zero:
        datamodule.prepare_data()  # a missing dataset fails here, before the run dir is written
        output_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
        log.info("Training model=%s activation=%s dropout=%s on %s data (%d classes), "
                 "optimizer=%s lr=%s schedule=%s; run dir %s", cfg.model.preset,
                 cfg.activation.name, cfg.dropout.p, cfg.data.source, datamodule.num_classes,
                 cfg.optimizer.name, cfg.optimizer.lr, cfg.schedule.name, output_dir)
        if ckpt_path:
            log.info("Resuming from %s", ckpt_path)
    started = time.perf_counter()
    record: dict[str, Any] = {"status": "running", "resumed_from": str(ckpt_path or "") or None,
                              "requeues": restart_count(),
                               "overrides": overrides(), "choices": choices(),
                               "device_slot": cfg.get("device_slot"),
                               "device_slot_gpu": cfg.get("device_slot_gpu")}

    def terminated() -> None:  # SIGTERM and no batch boundary since: the watchdog's record
        record.update(status="terminated", error=f"SIGTERM: no batch boundary within "
                      f"sigterm_grace_s={bound.grace_s:g} s",
                      last_good_checkpoint=_last_checkpoint(trainer))
        _complete_record(trainer, record, history, started, output_dir)

    bound.on_expiry = terminated
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        if signalled(trainer):  # the signal came after the last batch: test after the restart
            requeue(trainer, None)
        metrics = _scalars({**history.last_metrics, **trainer.callback_metrics})
        if cfg.get("test") and not trainer.fast_dev_run:
            best = _best_checkpoint(trainer)
            trainer.test(module, datamodule=datamodule, ckpt_path=best, weights_only=True)
            metrics.update(_scalars(trainer.callback_metrics))
        record.update(status="completed", metrics=metrics)
        (output_dir / "checkpoints" / REQUEUE_CHECKPOINT).unlink(missing_ok=True)
    except BaseException as raised:
        err = _loader_timeout(raised, cfg)
        explain = getattr(trainer.strategy, "explain", None)  # another DDP rank's failure
        err = explain(err) if explain is not None else err
        if requeued():  # SLURM stops a requeued job at once; whatever broke, it comes back
            record.update(status="requeued", metrics=_scalars(trainer.callback_metrics))
            if isinstance(err, Requeued):
                raise
            raise Requeued(0) from err
        record.update(status="failed", error=f"{type(err).__name__}: {err}",
                       metrics=_scalars(trainer.callback_metrics),
                       last_good_checkpoint=_last_checkpoint(trainer))
        if trainer.is_global_zero:
            log.error("Run failed: %s", record["error"])
            log.error("Kept: %s; resume with ckpt_path=%s", record["last_good_checkpoint"],
                      output_dir)
        if err is not raised:
            raise err from raised
        raise
    finally:
        _complete_record(trainer, record, history, started, output_dir)
        finish_trackers(trainer, record)
        _end_job(trainer)
    if trainer.is_global_zero:
        log.info("Final metrics: %s", json.dumps(record["metrics"]))
        log.info("Run dir: %s", output_dir)
        log.info("TensorBoard: tensorboard --logdir %s", output_dir)
    return record


def signalled(trainer: L.Trainer) -> bool:
    """Has the warning signal arrived, on any rank? Every rank decides alike: one that requeued
    while the others went on to test would leave them waiting in a collective."""
    stop = requested()
    if trainer.world_size > 1:
        stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
    return stop


def _loader_timeout(err: BaseException, cfg: DictConfig) -> BaseException:
    """The DataLoader's timeout as one line that names the setting; any other error as it is.
    The workers are killed: they ignore SIGTERM (alexnet.launch.requeue), and one stuck in a read
    would keep the process from exiting (it joins its children at exit)."""
    if isinstance(err, RuntimeError) and str(err).startswith("DataLoader timed out"):
        for child in multiprocessing.active_children():
            if child.daemon:  # the DataLoader's workers
                child.kill()
        return DataError(f"no batch from the data loader's workers in "
                         f"data.loader_timeout_s={cfg.data.get('loader_timeout_s')} s: a worker "
                         "failed (its error is above) or hung")
    return err


def _complete_record(trainer: L.Trainer, record: dict[str, Any], history: MetricHistory,
                     started: float, output_dir: Path) -> None:
    """Complete `record` and write it as the run's metrics.json (rank zero)."""
    record.update(epochs=trainer.current_epoch, global_step=trainer.global_step,
                   best_checkpoint=_best_checkpoint(trainer),
                   wall_time_s=round(time.perf_counter() - started, 1), history=history.epochs)
    data_record = getattr(trainer.datamodule, "run_record", None)
    if callable(data_record):  # the synthetic task's version, the colour basis
        record.update(data_record())
    for callback in trainer.callbacks:  # what a callback keeps in the record (TrainingProbe)
        run_record = getattr(callback, "run_record", None)
        if callable(run_record):
            record.update(run_record())
    if trainer.is_global_zero:
        write_record(output_dir, record)


def _end_job(trainer: L.Trainer) -> None:
    end_job = getattr(trainer.strategy, "end_job", None)  # HydraDDPStrategy: release the ranks
    if end_job is not None:
        end_job()


def check_run_options(cfg: DictConfig) -> None:
    """The top-level keys of the train config: fail before anything is built."""
    check_int("checkpoint_every_n_steps", cfg.get("checkpoint_every_n_steps", 0), minimum=0)
    if cfg.get("seed") is None:
        raise InvalidValue("seed", None, "it must be an integer >= 0 (the synthetic images, the "
                           "splits and the loaders' shuffles are drawn from it)")
    check_int("seed", cfg.seed, minimum=0)
    check_number("label_smoothing", cfg.get("label_smoothing", 0.0), 0, 1, high_open=True)
    check_choice("matmul_precision", cfg.get("matmul_precision", "high"),
                 ("highest", "high", "medium"))
    check_choice("compile_backend", cfg.get("compile_backend", "inductor"), compile_backends())
    check_number("sigterm_grace_s", cfg.get("sigterm_grace_s", 30.0), 0, None, low_open=True)
    for key in ("channels_last", "compile", "test"):
        if not isinstance(cfg.get(key, False), bool):
            raise InvalidValue(key, cfg.get(key), "it must be true or false")
    check_choice("divergence_check", cfg.get("divergence_check", "auto"), DIVERGENCE_CHECKS)
    check_trackers(cfg.get("logger"))


def compile_backends() -> list[str]:
    """torch.compile's backends for users: its listed ones, and eager / aot_eager to debug."""
    return sorted({*torch.compiler.list_backends(), "eager", "aot_eager"})


def check_image_size(image_size: int, minimum: int) -> None:
    """The model must fit the images: fail before training, naming data.image_size."""
    if image_size < minimum:
        raise InvalidValue("data.image_size", image_size,
                           f"this model needs images of at least {minimum}x{minimum} pixels")


def build_module(cfg: DictConfig, num_classes: int) -> AlexNetModule:
    """The AlexNetModule `cfg` describes; a bad model, optimizer or schedule fails here, early."""
    optimizer = OmegaConf.to_container(cfg.optimizer, resolve=True)
    schedule = OmegaConf.to_container(cfg.schedule, resolve=True)
    check_optimizer(optimizer)
    check_schedule(schedule)
    try:
        module = AlexNetModule(
            model={"preset": cfg.model.preset, "num_classes": num_classes, **model_kwargs(cfg)},
            optimizer=optimizer, schedule=schedule, label_smoothing=cfg.label_smoothing,
            channels_last=bool(cfg.get("channels_last")), compile=bool(cfg.get("compile")),
            compile_backend=cfg.get("compile_backend", "inductor"),
            freeze=cfg.model.get("freeze") or "none")
    except InvalidValue as err:
        raise err.renamed(config_key(err.key)) from None
    if cfg.model.get("weights"):
        # Resuming: the checkpoint's weights win (Lightning loads them after this).
        module.weights_info = load_weights(module.model, str(cfg.model.weights),
                                           preset=cfg.model.preset,
                                           resuming=bool(cfg.get("ckpt_path")))
        # weights_info["mean"], ["std"]: the normalization the weights expect (None: unknown)
    return module


def _instantiate(node: DictConfig, group: str, **kwargs: Any) -> Any:
    """Instantiate a config node; a value Lightning (or a callback) rejects becomes one line
    naming the group, the overrides given for it, and the library's reason."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, InvalidValue):
            key = cause.key if cause.key.startswith(group) else f"{group}.{cause.key}"
            raise cause.renamed(key) from None
        if not isinstance(cause, (ValueError, TypeError, MisconfigurationException)):
            raise
        given = " ".join(o for o in overrides() if o.lstrip("+~").startswith(group)) or "defaults"
        raise InvalidValue(group, given, f"{type(cause).__name__}: {cause}") from None


def _instantiate_datamodule(data_cfg: DictConfig) -> AlexNetDataModule:
    try:
        return instantiate(data_cfg)
    except InstantiationException as err:  # unwrap our own errors from Hydra's wrapper
        if isinstance(err.__cause__, (InvalidValue, DataError)):
            raise err.__cause__ from None
        raise


def load_checkpoint(ckpt_path: str, data: DictConfig | None = None
                    ) -> tuple[Path, AlexNetModule, AlexNetDataModule]:
    """A checkpoint (a file or a run dir's newest), checked, its module on the CPU and a
    datamodule with the checkpoint's data settings, each non-null key of `data` replacing one
    (another `source` drops the checkpoint's root and variant)."""
    path = resolve_checkpoint(ckpt_path)
    check_checkpoint(path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    data_args = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    given = {} if data is None else {
        k: v for k, v in OmegaConf.to_container(data, resolve=True).items() if v is not None}
    if given.get("source", data_args.get("source")) != data_args.get("source"):
        for key in ("root", "variant"):  # the checkpoint's dataset's, not the new one's
            data_args.pop(key, None)
    data_args.update(given)
    datamodule = AlexNetDataModule(**data_args)
    module = AlexNetModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    datamodule.fit_to_model(module.model.min_input_size)
    return path, module, datamodule


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Evaluate checkpoint `cfg.ckpt_path` on `cfg.split`; write metrics.json into the run dir.

    The data settings come from the checkpoint; any non-null `cfg.data` key overrides one.
    """
    quiet_console()
    check_choice("split", cfg.split, ("val", "test"))
    if not cfg.get("ckpt_path"):
        raise InvalidValue("ckpt_path", cfg.get("ckpt_path"), "set it to a .ckpt file or a run dir")
    path, module, datamodule = load_checkpoint(cfg.ckpt_path, cfg.data)
    if datamodule.num_classes != module.model.num_classes:
        raise InvalidValue("data.source", datamodule.source, f"it has {datamodule.num_classes} "
                           f"classes but the checkpoint's head has {module.model.num_classes}; "
                           "evaluate on data with the classes it was trained on")
    trainer: L.Trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    run = trainer.validate if cfg.split == "val" else trainer.test
    try:
        run(module, datamodule=datamodule)
    finally:
        _end_job(trainer)
    record = {
        "status": "completed",
        "checkpoint": str(path.resolve()),
        "split": cfg.split,
        "eval_crop": datamodule.eval_crop,
        "metrics": _scalars(trainer.callback_metrics),
        "overrides": overrides(),
    }
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if trainer.is_global_zero:
        write_record(output_dir, record)
        log.info("Metrics: %s", record["metrics"])
        log.info("Run dir: %s", output_dir)
    return record


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


def overrides() -> list[str]:
    """The command-line overrides of this Hydra job (none outside Hydra)."""
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def choices() -> dict[str, str]:
    """Hydra's record of the option chosen in each config group (``{"ablation": "tanh", ...}``);
    empty outside Hydra."""
    if not HydraConfig.initialized():
        return {}
    return {group: str(option) for group, option in HydraConfig.get().runtime.choices.items()
            if not group.startswith("hydra") and option is not None}
