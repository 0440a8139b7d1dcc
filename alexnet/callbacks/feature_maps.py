"""Feature maps of fixed probe images at conv1..conv5, so that epochs compare."""

from __future__ import annotations

import lightning as L
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from alexnet.callbacks.drawing import EpochDrawingCallback, display_images, probe_images
from alexnet.models.inspect import AlexNetFeatureExtractor, conv_layers
from alexnet.viz import feature_map_grid


class FeatureMapImages(EpochDrawingCallback):
    """Logs the probe images once (`feature_maps/inputs`), then `feature_maps/conv1..conv5`:
    one row per probe image, its first `num_maps` channels."""

    def __init__(self, every_n_epochs: int = 1, num_images: int = 4, num_maps: int = 16) -> None:
        super().__init__(every_n_epochs)
        self.num_images, self.num_maps = num_images, num_maps
        self._logged_inputs = False

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        images = probe_images(trainer, self.num_images)
        if not self._logged_inputs:
            grid = make_grid(display_images(trainer, images), nrow=len(images))
            writer.add_image("feature_maps/inputs", grid, step)
            self._logged_inputs = True
        with AlexNetFeatureExtractor(pl_module.model, conv_layers(pl_module.model)) as extract:
            features = extract(images.to(pl_module.device))
        for layer, maps in features.items():
            upscale = max(1, 32 // maps.shape[-1])
            grid = feature_map_grid(maps, self.num_maps, upscale)
            writer.add_image(f"feature_maps/{layer}", grid, step)
