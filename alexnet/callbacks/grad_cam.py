"""Grad-CAM of fixed probe images: where the model looks, epoch by epoch."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.tensorboard import SummaryWriter

from alexnet.callbacks.drawing import EpochDrawingCallback, display_images
from alexnet.data.samples import fixed_samples
from alexnet.errors import check_int
from alexnet.interpret import grad_cam, require_captum
from alexnet.interpret.attribution import cam_layer
from alexnet.interpret.grids import cam_grid


class GradCamImages(EpochDrawingCallback):
    """Logs `interpret/grad_cam`: the first `num_images` validation images over their Grad-CAM at
    conv `layer` (default: the last conv) for their true class (top row: the images). Needs
    captum; the layer is checked when fit starts, not after the first epoch."""

    def __init__(
        self,
        every_n_epochs: int = 1,
        num_images: int = 8,
        layer: str | None = None,
        alpha: float = 0.5,
    ) -> None:
        super().__init__(every_n_epochs)
        check_int("num_images", num_images, minimum=1)
        require_captum()
        self.num_images, self.layer, self.alpha = num_images, layer, alpha

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        cam_layer(pl_module.model, self.layer)

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        images, labels = fixed_samples(trainer.datamodule, "val", self.num_images)
        with torch.enable_grad():
            maps = grad_cam(pl_module.model, images, labels, self.layer).cpu()
        grid = cam_grid(display_images(trainer, images), maps, self.alpha)
        writer.add_image("interpret/grad_cam", grid, step)
