"""Conv filters as image grids: conv1 in RGB (the paper's Figure 3), deeper convs in grayscale."""

from __future__ import annotations

import lightning as L
from torch.utils.tensorboard import SummaryWriter

from alexnet.callbacks.drawing import EpochDrawingCallback
from alexnet.models.inspect import conv_layers, conv_weight
from alexnet.viz import filter_grid


class FilterImages(EpochDrawingCallback):
    """Logs `filters/conv1` .. `filters/conv5` (conv1..conv3 for mini; up to `max_filters`
    kernels each)."""

    def __init__(self, every_n_epochs: int = 1, max_filters: int = 256) -> None:
        super().__init__(every_n_epochs)
        self.max_filters = max_filters

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        for layer in conv_layers(pl_module.model):
            weight, towers = conv_weight(pl_module.model, layer)
            count = min(self.max_filters, weight.shape[0])
            towers = towers if count == weight.shape[0] else 1
            writer.add_image(f"filters/{layer}", filter_grid(weight, count, towers), step)
