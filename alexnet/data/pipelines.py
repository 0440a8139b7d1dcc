"""What the DataModule's splits pass their images through: the train and evaluation
transforms of its settings, the paper's colour noise fitted to the training set, the
training set through the evaluation pipeline, and the synthetic splits' memory cache."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from torch.utils.data import Dataset

from alexnet.data.colour_pca import ColourBasis, training_basis
from alexnet.data.imagefolder import SkipBadFiles
from alexnet.data.transforms import (
    IMAGENET_STATS,
    FancyPCA,
    Stats,
    eval_transform,
    normalize_imagenet,
    normalizer,
    train_transform,
)

log = logging.getLogger(__name__)


def renders_at_crop_size(split: str, augment: str, eval_crop: str) -> bool:
    """Synthetic images need no crop when nothing asks for one: they are drawn at the crop
    size. Validation and test do not depend on the training augmentation: every arm of an
    ablation is scored on the same images through the same pipeline."""
    if split == "train":
        return augment == "none"
    return eval_crop == "center"


def split_transforms(
    source: str,
    augment: str,
    eval_crop: str,
    image_size: int,
    resize_size: int,
    pca_sigma: float,
    stats: Stats,
) -> tuple[Any, Any]:
    """(training transform, evaluation transform): torchvision transforms of the loaded
    images (synthetic images drawn at the crop size are only normalized)."""
    synthetic = source == "synthetic"
    train = (
        normalizer_of(stats)
        if synthetic and renders_at_crop_size("train", augment, eval_crop)
        else train_transform(
            augment, image_size, resize_size, pca_sigma, from_tensor=synthetic, stats=stats
        )
    )
    evaluation = (
        normalizer_of(stats)
        if synthetic and renders_at_crop_size("val", augment, eval_crop)
        else eval_transform(eval_crop, image_size, resize_size, from_tensor=synthetic, stats=stats)
    )
    return train, evaluation


def normalizer_of(stats: Stats) -> Any:
    """A transform of [0, 1] image tensors."""
    imagenet = tuple(map(tuple, stats)) == tuple(map(tuple, IMAGENET_STATS))
    return normalize_imagenet if imagenet else normalizer(stats)


def fit_colour_noise(
    train_tf: Any,
    unaugmented: Callable[[], Dataset],
    stats: Stats,
    cache_dir: str | None,
    relative: bool = False,
) -> ColourBasis | None:
    """The paper's colour noise along the principal components of the training set's pixels
    (as the paper did for ImageNet), set in `train_tf`'s FancyPCA step; None without one. With
    `relative`, the eigenvalues are scaled so that the shift is as large against the pixels'
    colour spread as the paper's against ImageNet's (ColourBasis.relative_factor)."""
    fancy = [step for step in getattr(train_tf, "transforms", []) if isinstance(step, FancyPCA)]
    if not fancy or fancy[0].sigma <= 0:
        return None
    basis = training_basis(unaugmented(), stats, cache_dir=cache_dir)
    factor = basis.relative_factor() if relative else 1.0
    fancy[0].set_basis([value * factor for value in basis.eigval], basis.eigvec)
    log.info(
        "data: colour noise along the training set's RGB components, eigenvalues %s (%d images)",
        [round(v, 5) for v in basis.eigval],
        basis.images,
    )
    return basis


def through_eval_pipeline(train: Dataset, eval_tf: Any) -> Dataset:
    """A loaded training split (an ImageFolder, a named dataset, bad files skipped or not)
    whose images pass through `eval_tf` instead of its own transform."""
    unaugmented = copy.copy(train)
    if isinstance(train, SkipBadFiles):  # the ImageFolder inside holds the transform
        unaugmented.images = copy.copy(train.images)
        unaugmented.images.transform = eval_tf
    else:
        unaugmented.transform = eval_tf
    return unaugmented


def fill_caches(datasets: dict[str, Any], limit_mib: int, num_workers: int) -> None:
    """Render the synthetic splits once and serve them from memory, when they fit `limit_mib`
    together (else each image is drawn whenever it is loaded)."""
    total = sum(data.nbytes() for data in datasets.values())
    if total > limit_mib * 2**20:
        log.info(
            "data.cache: the synthetic images take %.0f MiB, over "
            "data.cache_limit_mib=%d: drawn on the fly",
            total / 2**20,
            limit_mib,
        )
        return
    for data in datasets.values():
        data.fill_cache(num_workers)
