"""Training augmentations (the paper's, torchvision's, none) and evaluation crops (centre, ten)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torchvision.transforms import v2

from alexnet.errors import check_choice

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
AUGMENTATIONS = ("paper", "torchvision", "none")
EVAL_CROPS = ("center", "ten_crop")
# ImageNet's RGB covariance eigen-decomposition (of 0-1 pixels), the colour augmentation's
# basis until the DataModule sets the training set's own (alexnet.data.colour_pca).
PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
PCA_EIGVEC = ((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203))


class FancyPCA(nn.Module):
    """The paper's colour noise: add eigvec @ (alpha * eigval), alpha ~ N(0, sigma), per image;
    eigvec's columns are the principal components of the training set's RGB pixels (ImageNet's
    until `set_basis` gives the training set's own)."""

    def __init__(self, sigma: float = 0.1) -> None:
        super().__init__()
        self.sigma = sigma
        self.register_buffer("eigval", torch.tensor(PCA_EIGVAL), persistent=False)
        self.register_buffer("eigvec", torch.tensor(PCA_EIGVEC), persistent=False)

    def set_basis(self, eigval: Sequence[float], eigvec: Sequence[Sequence[float]]) -> None:
        """Use these eigenvalues and eigenvectors (as columns) from now on."""
        self.eigval = torch.tensor(eigval, dtype=torch.float32)
        self.eigvec = torch.tensor(eigvec, dtype=torch.float32)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        # Drawn at sigma 0 too: an arm without colour noise then takes the same random numbers
        # as one with it, so the crops and flips that follow stay paired image by image.
        alpha = torch.randn(3) * self.sigma
        if self.sigma <= 0:
            return image
        shift = self.eigvec @ (alpha * self.eigval)
        return image + shift.view(3, 1, 1).to(image.device, image.dtype)


class StackCrops(nn.Module):
    """Stack a tuple of crops (from TenCrop) into one (crops, C, H, W) tensor."""

    def forward(self, crops: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return torch.stack(list(crops))


def resize_for(image_size: int) -> int:
    """The shorter-side resize before cropping `image_size`: 256 for 224, as in the paper."""
    return round(image_size * 256 / 224)


Stats = tuple[tuple[float, ...], tuple[float, ...]]
IMAGENET_STATS: Stats = (IMAGENET_MEAN, IMAGENET_STD)


def train_transform(
    augment: str,
    image_size: int,
    resize: int | None = None,
    pca_sigma: float = 0.1,
    from_tensor: bool = False,
    stats: Stats = IMAGENET_STATS,
) -> v2.Compose:
    """The training pipeline for PIL images (or [0, 1] tensors when `from_tensor`), normalized
    with `stats` (mean, std); PIL images of any mode (grayscale too) become RGB."""
    check_choice("data.augment", augment, AUGMENTATIONS)
    resize = resize or resize_for(image_size)
    if augment == "paper":  # the central resize x resize patch, then random crops and flips
        steps = [
            v2.Resize(resize, antialias=True),
            v2.CenterCrop(resize),
            v2.RandomCrop(image_size),
            v2.RandomHorizontalFlip(),
        ]
    elif augment == "torchvision":
        steps = [v2.RandomResizedCrop(image_size, antialias=True), v2.RandomHorizontalFlip()]
    else:
        steps = [v2.Resize(resize, antialias=True), v2.CenterCrop(image_size)]
    colour = [FancyPCA(pca_sigma)] if augment == "paper" else []
    return v2.Compose([*steps, *_to_float(from_tensor), *colour, _normalize(stats)])


def eval_transform(
    crop: str,
    image_size: int,
    resize: int | None = None,
    from_tensor: bool = False,
    stats: Stats = IMAGENET_STATS,
) -> v2.Compose:
    """The evaluation pipeline: resize the shorter side, then a centre crop, or the paper's ten
    crops (the four corners and the centre of the central resize x resize patch, and their
    mirror images)."""
    check_choice("data.eval_crop", crop, EVAL_CROPS)
    resize = resize or resize_for(image_size)
    if crop == "center":
        return v2.Compose(
            [
                v2.Resize(resize, antialias=True),
                v2.CenterCrop(image_size),
                *_to_float(from_tensor),
                _normalize(stats),
            ]
        )
    return v2.Compose(
        [
            v2.Resize(resize, antialias=True),
            v2.CenterCrop(resize),
            v2.TenCrop(image_size),
            *_to_float(from_tensor),
            _normalize(stats),
            StackCrops(),
        ]
    )


def _to_float(from_tensor: bool) -> list[nn.Module]:
    if from_tensor:
        return []
    return [v2.RGB(), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]


def normalize_imagenet(image: torch.Tensor) -> torch.Tensor:
    """Normalize [0, 1] images (..., 3, H, W) with ImageNet's mean and std, on their device."""
    mean = torch.tensor(IMAGENET_MEAN, device=image.device).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=image.device).view(3, 1, 1)
    return (image - mean) / std


def normalizer(stats: Stats = IMAGENET_STATS) -> v2.Normalize:
    """Normalization of [0, 1] images by `stats` (mean, std)."""
    return _normalize(stats)


def _normalize(stats: Stats = IMAGENET_STATS) -> v2.Normalize:
    return v2.Normalize(mean=list(stats[0]), std=list(stats[1]))


def denormalize(images: torch.Tensor, stats: Stats) -> torch.Tensor:
    """Undo normalization by `stats` (the run's own mean and std: no default, so that no
    picture of CIFAR or MNIST is coloured by ImageNet's): (N, 3, H, W) back to [0, 1] on the
    CPU, for display."""
    mean = torch.tensor(stats[0]).view(1, 3, 1, 1)
    std = torch.tensor(stats[1]).view(1, 3, 1, 1)
    return (images.float().cpu() * std + mean).clamp(0, 1)
