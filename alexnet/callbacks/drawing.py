"""What the image callbacks share: when to draw, the TensorBoard writer, and fixed probe images."""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter

from alexnet.data.samples import fixed_samples
from alexnet.data.transforms import IMAGENET_STATS, denormalize
from alexnet.errors import check_int


class EpochDrawingCallback(L.Callback):
    """Draws every `every_n_epochs` epochs (after validation) and once at the end of fit.

    Runs on rank zero only, with the model in eval mode and no gradients, and never on the
    training hot path. Subclasses implement `draw(trainer, pl_module, writer, step)`.
    """

    def __init__(self, every_n_epochs: int = 1) -> None:
        check_int("every_n_epochs", every_n_epochs, minimum=1)
        self.every_n_epochs = every_n_epochs
        self._last_step: int | None = None

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or (trainer.current_epoch + 1) % self.every_n_epochs:
            return
        self._run(trainer, pl_module)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._run(trainer, pl_module)

    def _run(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = tensorboard_writer(trainer)
        if writer is None or not trainer.is_global_zero or self._last_step == trainer.global_step:
            return
        self._last_step = trainer.global_step
        was_training = pl_module.training
        pl_module.eval()
        try:
            with torch.no_grad():
                self.draw(trainer, pl_module, writer, trainer.global_step)
        finally:
            pl_module.train(was_training)
        writer.flush()

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        raise NotImplementedError


def tensorboard_writer(trainer: L.Trainer) -> SummaryWriter | None:
    """The SummaryWriter of the trainer's TensorBoard logger, if it has one."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


def probe_images(trainer: L.Trainer, count: int) -> torch.Tensor:
    """The first `count` validation images (centre crop of ten-crop data): the same every time."""
    return fixed_samples(trainer.datamodule, "val", count)[0]


def display_images(trainer: L.Trainer, images: torch.Tensor) -> torch.Tensor:
    """Normalized input images back in [0, 1] for pictures, by the datamodule's statistics
    (ImageNet's for a datamodule of one's own that does not say)."""
    return denormalize(images, getattr(trainer.datamodule, "stats", None) or IMAGENET_STATS)
