"""Validation under a colour cast: the final model's top-1 on the validation images shifted in
colour along the training set's own principal components, the same shift for every arm. What
the paper's colour noise is meant to buy (invariance to the illumination's colour) is measured
here directly, beside the plain validation accuracy."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from alexnet.data.colour_pca import training_basis
from alexnet.data.samples import fixed_samples
from alexnet.errors import InvalidValue


def colour_shifts(
    count: int, eigval: torch.Tensor, eigvec: torch.Tensor, sigma: float, seed: int = 0
) -> torch.Tensor:
    """(count, 3) RGB shifts in [0, 1] pixel units: eigvec @ (alpha * sqrt(eigval)), alpha ~
    N(0, sigma) per image and component, drawn from `seed` (the same for every arm): each image
    moves `sigma` standard deviations along each of the pixels' colour components."""
    alpha = torch.randn(count, 3, generator=torch.Generator().manual_seed(seed)) * sigma
    return (alpha * eigval.clamp_min(0).sqrt()) @ eigvec.T


class ColourShiftProbe(L.Callback):
    """At the end of the fit: top-1 of the model in eval mode on the first `images` validation
    images, each shifted in colour by colour_shifts(sigma) along the un-augmented training
    images' principal components. Written to the run's metrics.json as ``colour_shifted_val``
    (with the shift's RMS and the pixels' colour spread, both in [0, 1] units)."""

    def __init__(self, sigma: float = 0.3, images: int = 2500) -> None:
        if not sigma > 0 or images < 1:
            raise ValueError(
                f"callbacks.colour_shift_probe: sigma={sigma} must be > 0 and images={images} "
                "an integer >= 1"
            )
        self.sigma, self.images = float(sigma), int(images)
        self.result: dict[str, Any] = {}

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        datamodule = trainer.datamodule
        mean, std = (torch.tensor(s).view(1, 3, 1, 1) for s in datamodule.stats)
        try:
            unaugmented = datamodule.unaugmented_train_split()
        except InvalidValue as error:  # e.g. JPEGs decoded on the device: nothing to measure
            self.result = {"skipped": str(error)}
            return
        basis = training_basis(unaugmented, datamodule.stats)
        eigval = torch.tensor(basis.eigval, dtype=torch.float32)
        eigvec = torch.tensor(basis.eigvec, dtype=torch.float32)
        images, labels = fixed_samples(datamodule, "val", self.images)
        if images.dim() == 5:  # ten-crop evaluation: the centre crop
            images = images[:, 4]
        shifts = colour_shifts(len(images), eigval, eigvec, self.sigma)
        pixels = (images * std + mean + shifts.view(-1, 3, 1, 1)).clamp(0, 1)  # a cast saturates
        shifted = (pixels - mean) / std
        model, was_training = pl_module.model, pl_module.model.training
        device = next(model.parameters()).device
        model.eval()
        try:
            with torch.no_grad():
                logits = torch.cat([model(b.to(device)).cpu() for b in shifted.split(250)])
        finally:
            model.train(was_training)
        self.result = {
            "acc1": float((logits.argmax(1) == labels).float().mean()),
            "sigma": self.sigma,
            "images": len(images),
            "shift_rms": float(shifts.pow(2).sum(1).mean().sqrt()),
            "colour_spread": basis.spread(),
        }

    def run_record(self) -> dict[str, Any]:
        """What the run's metrics.json keeps of this callback."""
        return {"colour_shifted_val": self.result} if self.result else {}
