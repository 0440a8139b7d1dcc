"""A training run's record as a context: metrics.json says `running` while the run runs (with
space kept for its last version), and on leaving says how it ended (alexnet/run/stop_reasons.py:
completed, interrupted, terminated, requeued, no_space, failed with the last good checkpoint),
with the epochs, steps, history and what the data and the callbacks keep, written by rank
zero; the trackers are finished and DDP's ranks released."""

from __future__ import annotations

import logging
import multiprocessing
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig

from alexnet.errors import DataError
from alexnet.launch.requeue import Requeued, requeued, restart_count
from alexnet.record import release_space, reserve_space, started, write_record
from alexnet.run.history import MetricHistory
from alexnet.run.setup import choices, overrides
from alexnet.run.stop_reasons import RunStopped, stop_reason
from alexnet.run.trackers import finish_trackers

log = logging.getLogger(__name__)


class RecordedRun:
    """`with RecordedRun(...) as run: ...; run.completed(metrics)`: the module's docstring."""

    def __init__(
        self,
        trainer: L.Trainer,
        cfg: DictConfig,
        output_dir: Path,
        history: MetricHistory,
        ckpt_path: Path | None,
    ) -> None:
        self.trainer, self.cfg, self.output_dir, self.history = trainer, cfg, output_dir, history
        self.record: dict[str, Any] = started(
            overrides(),
            resumed_from=str(ckpt_path or "") or None,
            requeues=restart_count(),
            choices=choices(),
            device_slot=cfg.get("device_slot"),
            device_slot_gpu=cfg.get("device_slot_gpu"),
        )
        self.started = time.perf_counter()

    def __enter__(self) -> RecordedRun:
        if self.trainer.is_global_zero:  # a record from the start, and room kept for the last
            reserve_space(self.output_dir)
            write_record(self.output_dir, self.record)
        return self

    def completed(self, metrics: dict[str, float]) -> None:
        self.record.update(status="completed", metrics=metrics)

    def terminated(self, grace_s: float) -> None:
        """SIGTERM and no batch boundary since: the watchdog writes the record itself."""
        self.record.update(
            status="terminated",
            error=f"SIGTERM: no batch boundary within sigterm_grace_s={grace_s:g} s",
            last_good_checkpoint=last_checkpoint(self.trainer),
        )
        self.write()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        raised: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if raised is not None:
                self._failed(raised)
        finally:
            try:
                self.write()
            except OSError as err:
                if raised is None:
                    raise
                log.error("Could not write the run's record: %s", err)  # raised says more
            if self.trainer.is_global_zero:
                release_space(self.output_dir)
            finish_trackers(self.trainer, self.record)
            end_job = getattr(self.trainer.strategy, "end_job", None)  # release DDP's ranks
            if end_job is not None:
                end_job()

    def _failed(self, raised: BaseException) -> None:
        """Record how the run ended; raise what explains it best (another rank's failure, the
        loader's timeout, one line for a stop with a known reason) from what was raised, or let
        `raised` go on (returns)."""
        err = loader_timeout(raised, self.cfg)
        explain = getattr(self.trainer.strategy, "explain", None)  # another DDP rank's failure
        err = explain(err) if explain is not None else err
        metrics = scalars(self.trainer.callback_metrics)
        if requeued():  # SLURM stops a requeued job at once; whatever broke, it comes back
            self.record.update(status="requeued", metrics=metrics)
            if isinstance(err, Requeued):
                return
            raise Requeued(0) from err
        reason = stop_reason(err, self.cfg, self.output_dir)
        if reason.status == "no_space":  # train.log cannot take more lines: no logging errors
            logging.raiseExceptions = False
        self.record.update(
            status=reason.status,
            error=reason.line,
            metrics=metrics,
            last_good_checkpoint=last_checkpoint(self.trainer),
        )
        if self.trainer.is_global_zero:
            log.error("Run %s: %s", reason.status, reason.line)
            log.error(
                "Kept: %s; resume with ckpt_path=%s",
                self.record["last_good_checkpoint"],
                self.output_dir,
            )
        if reason.one_line:
            raise RunStopped(reason.status, reason.line, reason.exit_code) from None
        if err is not raised:
            raise err from raised

    def write(self) -> None:
        """Complete the record and write it as the run's metrics.json (rank zero)."""
        trainer = self.trainer
        self.record.update(
            epochs=trainer.current_epoch,
            global_step=trainer.global_step,
            best_checkpoint=best_checkpoint(trainer),
            wall_time_s=round(time.perf_counter() - self.started, 1),
            history=self.history.epochs,
        )
        data_record = getattr(trainer.datamodule, "run_record", None)
        if callable(data_record):  # the synthetic task's version, the colour basis
            self.record.update(data_record())
        for callback in trainer.callbacks:  # what a callback keeps in the record (TrainingProbe)
            run_record = getattr(callback, "run_record", None)
            if callable(run_record):
                self.record.update(run_record())
        if trainer.is_global_zero:
            write_record(self.output_dir, self.record)


def loader_timeout(err: BaseException, cfg: DictConfig) -> BaseException:
    """The DataLoader's timeout as one line that names the setting; any other error as it is.
    The workers are killed: they ignore SIGTERM (alexnet.launch.requeue), and one stuck in a read
    would keep the process from exiting (it joins its children at exit)."""
    if isinstance(err, RuntimeError) and str(err).startswith("DataLoader timed out"):
        for child in multiprocessing.active_children():
            if child.daemon:  # the DataLoader's workers
                child.kill()
        return DataError(
            f"no batch from the data loader's workers in "
            f"data.loader_timeout_s={cfg.data.get('loader_timeout_s')} s: a worker "
            "failed (its error is above) or hung"
        )
    return err


def scalars(metrics: dict[str, torch.Tensor]) -> dict[str, float]:
    """The run's metrics (``stage/name``) as rounded floats."""
    return {
        key: round(float(value), 6)
        for key, value in sorted(metrics.items())
        if key.count("/") == 1 and not key.endswith(("_step", "_epoch"))
    }


def last_checkpoint(trainer: L.Trainer) -> str | None:
    """The newest checkpoint any checkpoint callback wrote, if one did."""
    paths = [
        Path(p)
        for c in trainer.checkpoint_callbacks
        for p in (getattr(c, "last_model_path", ""), getattr(c, "best_model_path", ""))
        if p and Path(p).is_file()
    ]
    return str(max(paths, key=lambda p: p.stat().st_mtime)) if paths else None


def best_checkpoint(trainer: L.Trainer) -> str | None:
    callback = trainer.checkpoint_callback
    return getattr(callback, "best_model_path", None) or None
