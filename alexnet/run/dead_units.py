"""Every run's dead units: at the end of the fit, the fraction of each activation layer's units
whose output is the same for every one of a fixed set of un-augmented training images (a ReLU
that never fires, a saturated tanh), written to the run's metrics.json as ``dead``. A network
half of whose units are dead is not the network its numbers seem to describe."""

from __future__ import annotations

from typing import Any

import lightning as L

from alexnet.callbacks.training_probe import dead_fractions
from alexnet.data.samples import unaugmented_train_samples
from alexnet.errors import InvalidValue

IMAGES = 256  # one forward pass at the end of the fit: seconds on a CPU, nothing on a GPU


class DeadUnits(L.Callback):
    """At the end of the fit (never during it): each activation layer's dead fraction of the
    final weights on IMAGES un-augmented training images. Data whose un-augmented training
    images cannot be read (JPEGs decoded on the device) is noted, not measured."""

    def __init__(self, images: int = IMAGES) -> None:
        self.images = images
        self.result: dict[str, Any] = {}

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        try:
            images, _ = unaugmented_train_samples(trainer.datamodule, self.images)
        except (InvalidValue, AttributeError) as error:
            self.result = {"dead_skipped": str(error)}
            return
        model = pl_module.model
        device = next(model.parameters()).device
        dead, _ = dead_fractions(model, images.to(device))
        self.result = {"dead": {layer: round(value, 6) for layer, value in dead.items()}}

    def run_record(self) -> dict[str, Any]:
        """What the run's metrics.json keeps of this callback."""
        return dict(self.result)
