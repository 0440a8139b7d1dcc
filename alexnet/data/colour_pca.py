"""The paper's colour augmentation needs the principal components of the training set's RGB
pixel values: "we perform PCA on the set of RGB pixel values throughout the ImageNet training
set" (section 4.1). Computed here from the training set in use, not borrowed from ImageNet."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from alexnet.data.transforms import PCA_EIGVAL, Stats

log = logging.getLogger(__name__)
CACHE_NAME = "alexnet_colour_pca.json"  # beside an ImageFolder's or a named dataset's files


@dataclass(frozen=True)
class ColourBasis:
    """Eigenvalues (descending) of the RGB covariance of [0, 1] pixel values, the eigenvectors
    as columns (eigvec[channel][component]), and how many images they came from."""

    eigval: tuple[float, float, float]
    eigvec: tuple[tuple[float, float, float], ...]
    images: int

    def shift_rms(self, sigma: float, factor: float = 1.0) -> float:
        """The root-mean-square colour shift FancyPCA adds to an image at `sigma` (in [0, 1]
        pixel units): sigma * sqrt(sum of squared eigenvalues), each times `factor`."""
        return sigma * factor * sum(value * value for value in self.eigval) ** 0.5

    def spread(self) -> float:
        """The pixels' colour spread: the RMS distance of a pixel from the mean colour."""
        return sum(self.eigval) ** 0.5

    def relative_factor(self) -> float:
        """What the eigenvalues are multiplied by so that the colour noise is as large against
        this spread as the paper's is against ImageNet's (data.pca_relative): eigenvalues are
        variances, so the paper's shift is not scale-free; this makes it so."""
        own = sum(v * v for v in self.eigval) ** 0.5 / max(self.spread(), 1e-12)
        return PAPER_SHIFT_PER_SPREAD / max(own, 1e-12)


# ImageNet's shift per unit sigma against its colour spread: ||eigval|| / sqrt(sum eigval), 0.445.
PAPER_SHIFT_PER_SPREAD = sum(v * v for v in PCA_EIGVAL) ** 0.5 / sum(PCA_EIGVAL) ** 0.5


def rgb_basis(images: list[torch.Tensor]) -> ColourBasis:
    """The principal components of the pixels of `images` ((3, H, W) in [0, 1]), in float64."""
    count, total = 0, torch.zeros(3, dtype=torch.float64)
    outer = torch.zeros(3, 3, dtype=torch.float64)
    for image in images:
        pixels = image.reshape(3, -1).double()
        count += pixels.shape[1]
        total += pixels.sum(1)
        outer += pixels @ pixels.T
    mean = total / count
    covariance = outer / count - torch.outer(mean, mean)
    eigval, eigvec = torch.linalg.eigh(covariance)  # ascending
    order = torch.argsort(eigval, descending=True)
    eigval, eigvec = eigval[order].clamp_min(0.0), eigvec[:, order]
    return ColourBasis(
        tuple(eigval.tolist()), tuple(tuple(row) for row in eigvec.tolist()), len(images)
    )


def training_basis(
    dataset: Dataset, stats: Stats, count: int = 128, cache_dir: str | Path | None = None
) -> ColourBasis:
    """The colour basis of `count` training images drawn at random (seed 0) from `dataset`, the
    un-augmented training split (normalized by `stats`, undone here). With `cache_dir`, read from
    and written to its CACHE_NAME when possible (a read-only dir is computed each time)."""
    cache = Path(cache_dir) / CACHE_NAME if cache_dir else None
    key = {"images": min(count, len(dataset)), "size": len(dataset)}
    if cache is not None and cache.is_file():
        try:
            stored = json.loads(cache.read_text())
        except ValueError:  # unreadable: computed again below
            stored = {}
        if stored.get("key") == key:
            return ColourBasis(
                tuple(stored["eigval"]),
                tuple(tuple(row) for row in stored["eigvec"]),
                stored["images"],
            )
    chosen = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:count]
    mean = torch.tensor(stats[0]).view(3, 1, 1)
    std = torch.tensor(stats[1]).view(3, 1, 1)
    images = []
    for index in sorted(chosen.tolist()):
        image = dataset[index][0]
        image = image[4] if image.dim() == 4 else image  # ten crops: the centre one
        images.append((image.float() * std + mean).clamp(0, 1))
    basis = rgb_basis(images)
    if cache is not None:
        try:  # atomically: DDP ranks may read it while another writes it
            partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps({"key": key, **asdict(basis)}))
            os.replace(partial, cache)
        except OSError as error:  # a read-only dataset: computed again next time
            log.info("data: could not cache the colour basis in %s (%s)", cache, error)
    return basis
