"""Building a run: everything that is checked before the first batch (the config's values, the
data, the model, the checkpoint to resume, the loggers, callbacks and trainer), so that a
mistake fails early with one line naming its key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from hydra import compose
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.plugins.environments import SLURMEnvironment
from omegaconf import DictConfig, OmegaConf

from alexnet.config.compose import compose_config, config_key, model_kwargs
from alexnet.data import AlexNetDataModule
from alexnet.errors import DataError, InvalidValue, check_choice, check_int, check_number
from alexnet.launch.requeue import REQUEUE_CHECKPOINT, RequeueOnSignal, restart_count
from alexnet.launch.sigterm import SigtermBound
from alexnet.models.weights import load_weights
from alexnet.run.checkpoints import AtomicCheckpointIO, check_checkpoint, resolve_checkpoint
from alexnet.run.dead_units import DeadUnits
from alexnet.run.divergence import DIVERGENCE_CHECKS, DivergenceGuard
from alexnet.run.history import MetricHistory
from alexnet.run.model_card import ModelCard
from alexnet.run.resume_settings import adopt_checkpoint
from alexnet.run.rng_state import RNGState
from alexnet.run.trackers import TrackerParams, check_trackers
from alexnet.run.trained import fit_to_model
from alexnet.training.module import AlexNetModule
from alexnet.training.optim import check_optimizer, check_schedule

log = logging.getLogger(__name__)


@dataclass
class Run:
    """What a training run is made of, built and checked."""

    datamodule: AlexNetDataModule
    module: AlexNetModule
    trainer: L.Trainer
    ckpt_path: Path | None
    history: MetricHistory
    bound: SigtermBound


def offset_seed(seed: int, offset: int) -> int:
    """The seed of what a run with rng_offset=`offset` draws after its model is built: hashed
    from both (numpy's SeedSequence), so it lands near no other run's seed, nor any of their
    ranks' (RNGState's seed + rank * stride)."""
    return int(np.random.SeedSequence([seed, offset]).generate_state(1)[0])


def build_run(cfg: DictConfig, output_dir: Path) -> Run:
    """The datamodule, module and trainer `cfg` describes, and the checkpoint to resume (a given
    one, or a requeued SLURM job's newest); nothing is written yet."""
    check_run_options(cfg)
    ckpt_path = None
    if cfg.get("ckpt_path"):
        ckpt_path = resolve_checkpoint(cfg.ckpt_path)
    elif restart_count() and list((output_dir / "checkpoints").glob("*.ckpt")):
        ckpt_path = resolve_checkpoint(output_dir)  # a requeued SLURM job: where it stopped
    if ckpt_path:
        check_checkpoint(ckpt_path)
        checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True)
        adopt_checkpoint(cfg, checkpoint, ckpt_path, default_config(), overrides())
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate_datamodule(cfg.data)
    module = build_module(cfg, datamodule.num_classes)
    if cfg.rng_offset:  # a placebo arm: the same images and init, other draws after
        moved = offset_seed(cfg.seed, cfg.rng_offset)
        L.seed_everything(moved, workers=True, verbose=False)
        datamodule.order_offset = moved
    fit_to_model(datamodule, module.model.min_input_size, getattr(module, "weights_info", None))
    check_image_size(datamodule.image_size, module.model.min_input_size)
    # Lightning's model summary counts the forward FLOPs of this one image (else "FLOPs: 0").
    size = datamodule.image_size
    module.example_input_array = torch.zeros(1, 3, size, size)
    history = MetricHistory()
    bound = SigtermBound(float(cfg.sigterm_grace_s))
    trainer = build_trainer(cfg, output_dir, [history, bound])
    return Run(datamodule, module, trainer, ckpt_path, history, bound)


def build_trainer(cfg: DictConfig, output_dir: Path, ours: list[L.Callback]) -> L.Trainer:
    """The Trainer of `cfg` with its loggers and callbacks, ours (`ours`, the divergence guard,
    the dead units of the final weights, the model card in checkpoints, RNG states, tracker
    params) and, under SLURM, the requeue at the warning signal."""
    loggers = [
        instantiate_group(c, f"logger.{name}") for name, c in (cfg.get("logger") or {}).items() if c
    ]
    callbacks = [
        instantiate_group(c, f"callbacks.{name}")
        for name, c in (cfg.get("callbacks") or {}).items()
        if c
    ]
    callbacks += [
        DivergenceGuard(cfg.divergence_check),
        DeadUnits(),
        ModelCard(),
        *ours,
        RNGState(),
        TrackerParams(),
    ]
    if not loggers:  # nothing to write the learning rate to
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    plugins: list[Any] = [AtomicCheckpointIO()]
    if SLURMEnvironment.detect():  # launch/requeue.py requeues; Lightning's auto-requeue is off
        plugins.append(SLURMEnvironment(auto_requeue=False))
        callbacks.append(RequeueOnSignal(output_dir / "checkpoints" / REQUEUE_CHECKPOINT))
    trainer: L.Trainer = instantiate_group(
        cfg.trainer, "trainer", callbacks=callbacks, logger=loggers or False, plugins=plugins
    )
    if trainer.strategy.root_device.type == "cuda":  # TF32 matmuls and convs unless "highest"
        precision = cfg.matmul_precision  # its default: train.yaml's
        torch.set_float32_matmul_precision(precision)
        torch.backends.cudnn.allow_tf32 = precision != "highest"
        log.info("float32 matmul precision on CUDA: %s (matmul_precision)", precision)
    return trainer


def check_run_options(cfg: DictConfig) -> None:
    """The ranges and choices of the train config's top-level keys (their types: TrainSchema,
    checked at composition; their values: train.yaml's): fail before anything is built."""
    check_int("checkpoint_every_n_steps", cfg.checkpoint_every_n_steps, minimum=0)
    if cfg.get("seed") is None:
        raise InvalidValue(
            "seed",
            None,
            "it must be an integer >= 0 (the synthetic images, the "
            "splits and the loaders' shuffles are drawn from it)",
        )
    check_int("seed", cfg.seed, minimum=0)
    check_int("rng_offset", cfg.rng_offset, minimum=0)
    check_number("label_smoothing", cfg.label_smoothing, 0, 1, high_open=True)
    check_choice("matmul_precision", cfg.matmul_precision, ("highest", "high", "medium"))
    check_choice("compile_backend", cfg.compile_backend, compile_backends())
    check_number("sigterm_grace_s", cfg.sigterm_grace_s, 0, None, low_open=True)
    check_choice("divergence_check", cfg.divergence_check, DIVERGENCE_CHECKS)
    check_trackers(cfg.get("logger"))


def compile_backends() -> list[str]:
    """torch.compile's backends for users: its listed ones, and eager / aot_eager to debug."""
    return sorted({*torch.compiler.list_backends(), "eager", "aot_eager"})


def check_image_size(image_size: int, minimum: int) -> None:
    """The model must fit the images: fail before training, naming data.image_size."""
    if image_size < minimum:
        raise InvalidValue(
            "data.image_size",
            image_size,
            f"this model needs images of at least {minimum}x{minimum} pixels",
        )


def build_module(cfg: DictConfig, num_classes: int) -> AlexNetModule:
    """The AlexNetModule `cfg` describes; a bad model, optimizer or schedule fails here, early."""
    optimizer = OmegaConf.to_container(cfg.optimizer, resolve=True)
    schedule = OmegaConf.to_container(cfg.schedule, resolve=True)
    check_optimizer(optimizer)
    check_schedule(schedule)
    try:
        module = AlexNetModule(
            model={"preset": cfg.model.preset, "num_classes": num_classes, **model_kwargs(cfg)},
            optimizer=optimizer,
            schedule=schedule,
            label_smoothing=cfg.label_smoothing,
            channels_last=cfg.channels_last,
            compile=cfg.compile,
            compile_backend=cfg.compile_backend,
            freeze=cfg.model.get("freeze") or "none",
        )
    except InvalidValue as err:
        raise err.renamed(config_key(err.key)) from None
    if cfg.model.get("weights"):
        # Resuming: the checkpoint's weights win (Lightning loads them after this).
        module.weights_info = load_weights(
            module.model,
            str(cfg.model.weights),
            preset=cfg.model.preset,
            resuming=bool(cfg.get("ckpt_path")),
        )
        # weights_info["mean"], ["std"]: the normalization the weights expect (None: unknown)
    return module


def instantiate_group(node: DictConfig, group: str, **kwargs: Any) -> Any:
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


def instantiate_datamodule(data_cfg: DictConfig) -> AlexNetDataModule:
    """The datamodule of `cfg.data`; its own errors unwrapped from Hydra's."""
    try:
        return instantiate(data_cfg)
    except InstantiationException as err:  # unwrap our own errors from Hydra's wrapper
        if isinstance(err.__cause__, (InvalidValue, DataError)):
            raise err.__cause__ from None
        raise


def default_config() -> DictConfig:
    """The config this command composes with no overrides (its own config dir included)."""
    if GlobalHydra.instance().is_initialized():
        name = HydraConfig.get().job.config_name if HydraConfig.initialized() else "train"
        return compose(config_name=name or "train")
    return compose_config([], "train", output_dir=".")


def overrides() -> list[str]:
    """The command-line overrides of this Hydra job (none outside Hydra)."""
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def choices() -> dict[str, str]:
    """Hydra's record of the option chosen in each config group (``{"ablation": "tanh", ...}``);
    empty outside Hydra."""
    if not HydraConfig.initialized():
        return {}
    return {
        group: str(option)
        for group, option in HydraConfig.get().runtime.choices.items()
        if not group.startswith("hydra") and option is not None
    }
