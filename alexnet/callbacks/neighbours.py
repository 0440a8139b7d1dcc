"""The training images nearest to fixed probe images in the last hidden layer (Figure 4)."""

from __future__ import annotations

import lightning as L
from torch.utils.tensorboard import SummaryWriter

from alexnet.callbacks.drawing import EpochDrawingCallback, display_images
from alexnet.data.samples import fixed_samples
from alexnet.errors import check_int
from alexnet.interpret import nearest_neighbours
from alexnet.interpret.grids import neighbour_grid


class NearestNeighbourImages(EpochDrawingCallback):
    """Logs `interpret/nearest_neighbours`: one row per validation probe, then its `k` nearest of
    the first `gallery_size` training images by Euclidean distance of the last hidden layer (fc7
    in AlexNet), as the paper's Figure 4. The gallery's augmentation is drawn from a fixed seed."""

    def __init__(
        self,
        every_n_epochs: int = 1,
        num_probes: int = 4,
        k: int = 6,
        gallery_size: int = 256,
        thumbnail: int = 64,
    ) -> None:
        super().__init__(every_n_epochs)
        for key, value in (
            ("num_probes", num_probes),
            ("k", k),
            ("gallery_size", gallery_size),
            ("thumbnail", thumbnail),
        ):
            check_int(key, value, minimum=1)
        self.num_probes, self.k = num_probes, k
        self.gallery_size, self.thumbnail = gallery_size, thumbnail

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        probes, _ = fixed_samples(trainer.datamodule, "val", self.num_probes)
        gallery, _ = fixed_samples(trainer.datamodule, "train", self.gallery_size)
        _, indices = nearest_neighbours(pl_module.model, probes, gallery, self.k)
        grid = neighbour_grid(
            display_images(trainer, probes),
            display_images(trainer, gallery),
            indices.cpu(),
            self.thumbnail,
        )
        writer.add_image("interpret/nearest_neighbours", grid, step)
