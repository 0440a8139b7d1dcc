"""The validation confusion matrix as an image, at the end of each validation."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from alexnet.callbacks.drawing import tensorboard_writer
from alexnet.viz import confusion_figure


class ConfusionMatrixImage(L.Callback):
    """Counts (true, predicted) pairs over the validation batches; logs `val/confusion_matrix`
    every `every_n_epochs` epochs (a bincount per batch: nothing on the training path)."""

    def __init__(self, every_n_epochs: int = 1) -> None:
        self.every_n_epochs = every_n_epochs
        self._counts: torch.Tensor | None = None

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._counts = None

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not isinstance(outputs, dict) or "scores" not in outputs:
            return
        classes = outputs["scores"].shape[-1]
        pairs = batch[1] * classes + outputs["scores"].argmax(-1)
        counts = torch.bincount(pairs, minlength=classes * classes).view(classes, classes)
        self._counts = counts if self._counts is None else self._counts + counts

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._counts is None or trainer.sanity_checking:
            return
        counts = trainer.strategy.reduce(self._counts, reduce_op="sum")
        if (trainer.current_epoch + 1) % self.every_n_epochs or not trainer.is_global_zero:
            return
        writer = tensorboard_writer(trainer)
        if writer is None:
            return
        names = getattr(trainer.datamodule, "classes", None) or None
        figure = confusion_figure(counts, names)
        writer.add_figure("val/confusion_matrix", figure, trainer.global_step, close=True)
