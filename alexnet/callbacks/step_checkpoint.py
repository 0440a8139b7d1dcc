"""Crash safety: a checkpoint every N training steps, the newest kept.

A step boundary that falls on an epoch's last batch is saved after that epoch's validation
(with the epoch's own checkpoints), never before it: a checkpoint taken between the last batch
and the validation resumes into the next epoch and loses the validation (Lightning restarts the
epoch loop as finished). Retention counts every ``step_*.ckpt`` in the folder, so the files of
a process that was killed before it could prune them go by the same rule as its own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Checkpoint

from alexnet.errors import check_int

log = logging.getLogger(__name__)
PATTERN = "step_*.ckpt"


class StepCheckpoint(Checkpoint):
    """Saves ``dirpath/step_<global step>.ckpt`` every `every_n_train_steps` steps (0: never)
    and keeps the newest `save_top_k` of them (-1: all)."""

    def __init__(self, dirpath: str, every_n_train_steps: int, save_top_k: int = 1) -> None:
        check_int("checkpoint_every_n_steps", every_n_train_steps, minimum=0)
        check_int("callbacks.step_checkpoint.save_top_k", save_top_k, minimum=-1)
        self.dirpath, self.every, self.keep = Path(dirpath), every_n_train_steps, save_top_k
        self.last_model_path = ""  # read like a ModelCheckpoint's (the last good checkpoint)
        self.best_model_path = ""
        self._pending = False

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, idx: int
    ) -> None:
        if self.every < 1 or trainer.global_step % self.every or trainer.sanity_checking:
            return
        if idx + 1 >= trainer.num_training_batches:  # the epoch's last batch: after validation
            self._pending = True
            return
        self._save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._pending:
            self._pending = False
            self._save(trainer)

    def _save(self, trainer: L.Trainer) -> None:
        path = self.dirpath / f"step_{trainer.global_step:07d}.ckpt"
        trainer.save_checkpoint(path)
        self.last_model_path = str(path)
        if trainer.is_global_zero:
            self.prune(keep=path)

    def prune(self, keep: Path) -> None:
        """Remove all but the newest `save_top_k` step checkpoints of the folder (`keep`, just
        written, always stays), whichever process wrote them."""
        if self.keep < 0:
            return
        others = [p for p in self.dirpath.glob(PATTERN) if p != keep]
        others.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
        for old in others[max(self.keep - 1, 0) :]:
            old.unlink(missing_ok=True)
            log.debug("removed the older step checkpoint %s", old)
