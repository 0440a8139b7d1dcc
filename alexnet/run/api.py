"""The run API: train or evaluate a composed config and write the run's record.

train.py, eval.py, the experiments, the notebook and the tests all run through here; the
command line's process policy (exit codes, one-line errors, sweeps) is alexnet/cli/main.py's. A run
is built and checked by alexnet/run/setup.py and recorded by alexnet/run/outcome.py.

    from alexnet.config.compose import compose_config
    from alexnet.run.api import train
    record = train(compose_config(["model=mini", "trainer.max_epochs=2"]))
"""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from alexnet.errors import InvalidValue, check_choice
from alexnet.launch.requeue import REQUEUE_CHECKPOINT, requested, requeue
from alexnet.record import evaluated, write_record
from alexnet.run.console import quiet_console
from alexnet.run.lock import lock_run_dir, unlock_run_dir
from alexnet.run.outcome import RecordedRun, best_checkpoint, scalars
from alexnet.run.setup import Run, build_run, overrides
from alexnet.run.trained import load_checkpoint

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train and test as `cfg` says; write the run's config and metrics.json into its dir.

    Everything that can be checked is checked before the first batch (config values, the data,
    the checkpoint to resume). A run that fails after that (a diverging loss, a crash) writes
    metrics.json with ``status: failed`` and the last good checkpoint, then re-raises.
    """
    quiet_console()
    output_dir = Path(cfg.paths.output_dir)
    run = build_run(cfg, output_dir)
    trainer, datamodule = run.trainer, run.datamodule
    if trainer.is_global_zero:
        datamodule.prepare_data()  # a missing dataset fails here, before the run dir is written
        lock_run_dir(output_dir)  # another live run in this folder: refused, nothing written
        OmegaConf.save(cfg, output_dir / "config.yaml", resolve=True)
        log.info(
            "Training model=%s activation=%s dropout=%s on %s data (%d classes), "
            "optimizer=%s lr=%s schedule=%s; run dir %s",
            cfg.model.preset,
            cfg.activation.name,
            cfg.dropout.p,
            cfg.data.source,
            datamodule.num_classes,
            cfg.optimizer.name,
            cfg.optimizer.lr,
            cfg.schedule.name,
            output_dir,
        )
        if run.ckpt_path:
            log.info("Resuming from %s", run.ckpt_path)
    try:
        record = _fit_and_test(cfg, run, output_dir)
    finally:
        unlock_run_dir(output_dir)
    if trainer.is_global_zero:
        log.info("Final metrics: %s", json.dumps(record["metrics"]))
        log.info("Run dir: %s", output_dir)
        log.info("TensorBoard: tensorboard --logdir %s", shlex.quote(str(output_dir)))
    return record


def _fit_and_test(cfg: DictConfig, run: Run, output_dir: Path) -> dict[str, Any]:
    """Fit, then test the best checkpoint, inside the run's record."""
    trainer, module, datamodule = run.trainer, run.module, run.datamodule
    with RecordedRun(trainer, cfg, output_dir, run.history, run.ckpt_path) as recorded:
        run.bound.on_expiry = lambda: recorded.terminated(run.bound.grace_s)
        trainer.fit(module, datamodule=datamodule, ckpt_path=run.ckpt_path, weights_only=True)
        if signalled(trainer):  # the signal came after the last batch: test after the restart
            requeue(trainer, None)
        metrics = scalars({**run.history.last_metrics, **trainer.callback_metrics})
        if cfg.get("test") and not trainer.fast_dev_run:
            trainer.test(
                module, datamodule=datamodule, ckpt_path=best_checkpoint(trainer), weights_only=True
            )
            metrics.update(scalars(trainer.callback_metrics))
        recorded.completed(metrics)
        (output_dir / "checkpoints" / REQUEUE_CHECKPOINT).unlink(missing_ok=True)
    return recorded.record


def signalled(trainer: L.Trainer) -> bool:
    """Has the warning signal arrived, on any rank? Every rank decides alike: one that requeued
    while the others went on to test would leave them waiting in a collective."""
    stop = requested()
    if trainer.world_size > 1:
        stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
    return stop


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
        key, value = ("data.root", datamodule.root) if datamodule.root else ("data.source", None)
        raise InvalidValue(
            key,
            str(value or datamodule.source),
            f"it has {datamodule.num_classes} "
            f"classes but the checkpoint's head has {module.model.num_classes}; "
            "evaluate on data with the classes it was trained on",
        )
    trainer: L.Trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    run = trainer.validate if cfg.split == "val" else trainer.test
    try:
        run(module, datamodule=datamodule)
    finally:
        end_job = getattr(trainer.strategy, "end_job", None)  # release DDP's ranks
        if end_job is not None:
            end_job()
    record = evaluated(
        str(path.resolve()),
        cfg.split,
        datamodule.eval_crop,
        scalars(trainer.callback_metrics),
        overrides(),
    )
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if trainer.is_global_zero:
        write_record(output_dir, record)
        log.info("Metrics: %s", record["metrics"])
        log.info("Run dir: %s", output_dir)
    return record
