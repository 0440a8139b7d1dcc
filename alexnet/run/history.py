"""Per-epoch metric history, kept in checkpoints and written to the run's metrics.json: every
epoch that ran, whichever checkpoint is restored afterwards."""

from __future__ import annotations

import time
from typing import Any

import lightning as L

TRACKED = ("train/loss", "train/acc1", "val/loss", "val/acc1", "val/acc5")


class MetricHistory(L.Callback):
    """After each training epoch (its validation included), records the epoch, the global step,
    the seconds of fitting so far (and of the epoch's validation, if it had one) and the
    epoch-level metrics. Reports read it to find the
    steps to a target accuracy without re-reading event files."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, Any]] = []
        self.last_metrics: dict[str, float] = {}  # every metric of the last epoch: a fit resumed
        # after its last epoch (a job requeued during its test) reports them again
        self._elapsed = 0.0
        self._started: float | None = None
        self._validating: float | None = None
        self._validation_s = 0.0  # this epoch's validation, sanity check excluded

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._validating = None if trainer.sanity_checking else time.perf_counter()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._validating is not None:
            self._validation_s += time.perf_counter() - self._validating
            self._validating = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = trainer.callback_metrics
        entry: dict[str, Any] = {
            "epoch": trainer.current_epoch,
            "step": trainer.global_step,
            "time_s": round(self._seconds(), 3),
        }
        if self._validation_s:  # what validating cost: an experiment's budget reads it
            entry["validation_s"] = round(self._validation_s, 3)
            self._validation_s = 0.0
        entry.update({key: round(float(metrics[key]), 6) for key in TRACKED if key in metrics})
        self.epochs = [e for e in self.epochs if e["epoch"] != entry["epoch"]] + [entry]
        self.last_metrics = {
            key: float(value)
            for key, value in metrics.items()
            if getattr(value, "numel", lambda: 1)() == 1
        }

    def _seconds(self) -> float:
        running = time.perf_counter() - self._started if self._started is not None else 0.0
        return self._elapsed + running

    def state_dict(self) -> dict[str, Any]:
        return {
            "epochs": list(self.epochs),
            "elapsed": self._seconds(),
            "last_metrics": dict(self.last_metrics),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """A checkpoint's history, joined with the epochs this process has recorded already:
        testing the best checkpoint (Lightning restores every callback from it) must not drop
        the epochs after the best one."""
        known = {entry["epoch"]: entry for entry in state_dict.get("epochs", [])}
        known.update({entry["epoch"]: entry for entry in self.epochs})
        self.epochs = [known[epoch] for epoch in sorted(known)]
        self.last_metrics = dict(state_dict.get("last_metrics", {}))
        self._elapsed = float(state_dict.get("elapsed", 0.0))
        self._started = time.perf_counter()
