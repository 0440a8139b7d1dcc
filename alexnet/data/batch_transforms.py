"""The loader's image transforms, batched on the device (``data.decode=device``).

Decoded images differ in size, so each is resized (shorter side) and centre-cropped on its own,
with torchvision's functional ops, the same as the loader's pipeline; everything after that runs
once per batch: the random crops (views, one stack), flips and the paper's colour noise (drawn
on the device, no host round trip), the conversion to float and the normalization.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from alexnet.data.transforms import (
    AUGMENTATIONS,
    EVAL_CROPS,
    IMAGENET_STATS,
    PCA_EIGVAL,
    PCA_EIGVEC,
    Stats,
    resize_for,
)
from alexnet.errors import check_choice


class BatchTransform:
    """`train_transform` (``train=True``) or `eval_transform` of a list of uint8 (3, H, W)
    images on one device, batched: (B, 3, S, S) floats, or (B, 10, 3, S, S) for ten crops.

    Random crop offsets are drawn on the host (torch's global generator, as the loader's
    transforms do); flips and colour noise with the device's generator.
    """

    def __init__(
        self,
        train: bool,
        augment: str = "paper",
        eval_crop: str = "center",
        image_size: int = 224,
        resize: int | None = None,
        pca_sigma: float = 0.1,
        stats: Stats = IMAGENET_STATS,
    ) -> None:
        check_choice("data.augment", augment, AUGMENTATIONS)
        check_choice("data.eval_crop", eval_crop, EVAL_CROPS)
        self.train, self.augment, self.eval_crop = train, augment, eval_crop
        self.size, self.resize = image_size, resize or resize_for(image_size)
        self.colour_noise = train and augment == "paper"  # drawn even at sigma 0: paired arms
        self.pca_sigma = pca_sigma if self.colour_noise else 0.0
        self.stats = stats
        self.eigval, self.eigvec = torch.tensor(PCA_EIGVAL), torch.tensor(PCA_EIGVEC)
        self._random_resized_crop = v2.RandomResizedCrop(image_size, antialias=True)
        self._on: dict[torch.device, tuple[torch.Tensor, ...]] = {}

    def set_basis(self, eigval: Sequence[float], eigvec: Sequence[Sequence[float]]) -> None:
        """The colour noise's principal components (eigenvectors as columns)."""
        self.eigval = torch.tensor(eigval, dtype=torch.float32)
        self.eigvec = torch.tensor(eigvec, dtype=torch.float32)
        self._on.clear()

    def __call__(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        if self.train and self.augment == "torchvision":
            batch = torch.stack([self._random_resized_crop(image) for image in images])
            return self._finish(self._flip(batch))
        if self.train and self.augment == "none" or not self.train and self.eval_crop == "center":
            return self._finish(torch.stack([self._centre(image, self.size) for image in images]))
        patches = torch.stack([self._centre(image, self.resize) for image in images])
        if not self.train:  # the paper's ten crops: four corners and centre, and their mirrors
            crops = [*TF.five_crop(patches, self.size), *TF.five_crop(patches.flip(-1), self.size)]
            return self._finish(torch.stack(crops, dim=1))
        return self._finish(self._flip(self._random_crops(patches)))

    def _centre(self, image: torch.Tensor, size: int) -> torch.Tensor:
        resized = TF.resize(image, [self.resize], antialias=True)
        return TF.center_crop(resized, [size, size])

    def _random_crops(self, patches: torch.Tensor) -> torch.Tensor:
        room = patches.shape[-1] - self.size + 1
        offsets = torch.randint(0, room, (patches.shape[0], 2)).tolist()  # a CPU tensor
        return torch.stack(
            [
                patch[:, y : y + self.size, x : x + self.size]
                for patch, (y, x) in zip(patches, offsets)
            ]
        )

    def _flip(self, batch: torch.Tensor) -> torch.Tensor:
        flip = torch.rand(batch.shape[0], device=batch.device) < 0.5
        return torch.where(flip.view(-1, 1, 1, 1), batch.flip(-1), batch)

    def _finish(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 to [0, 1] floats, the colour noise, then the normalization: once per batch."""
        eigval, eigvec, mean, std = self._constants(batch.device)
        images = batch.float().div_(255)
        if self.colour_noise:
            alpha = torch.randn(images.shape[0], 3, device=images.device) * self.pca_sigma
            shift = (alpha * eigval) @ eigvec.T  # (B, 3): eigvec @ (alpha * eigval), per image
            images = images + shift.view(-1, 3, 1, 1)  # (ten crops: evaluation only)
        shape = (3, 1, 1) if images.dim() == 4 else (1, 3, 1, 1)
        return (images - mean.view(shape)) / std.view(shape)

    def _constants(self, device: torch.device) -> tuple[torch.Tensor, ...]:
        if device not in self._on:  # uploaded once per device, not per batch
            self._on[device] = tuple(
                t.to(device)
                for t in (
                    self.eigval,
                    self.eigvec,
                    torch.tensor(self.stats[0]),
                    torch.tensor(self.stats[1]),
                )
            )
        return self._on[device]
