"""Does an attribution map point at the object? The synthetic images know where their object is
(`SyntheticImageNet.object_mask`); these measures compare a map with that mask, and make the
maps a measure needs beside a model's: the oracle ceiling, a saliency baseline, a centre prior."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flat_maps(maps: torch.Tensor) -> torch.Tensor:
    """Which maps (B, H, W) have no peak: every pixel equal (an all-zero Grad-CAM, where the
    rectified evidence is nowhere positive). (B,) bool."""
    flat = maps.flatten(1)
    return flat.amax(1) <= flat.amin(1)


def pointing_hits(maps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Per image, whether its map peaks inside the object (maps, masks: (B, H, W)). A flat map
    points nowhere: a miss (not a hit at pixel (0, 0), where argmax would put it)."""
    peaks = maps.flatten(1).argmax(dim=1)
    hits = masks.flatten(1).gather(1, peaks.unsqueeze(1)).squeeze(1).bool()
    return hits & ~flat_maps(maps)


def pointing_game(maps: torch.Tensor, masks: torch.Tensor) -> float:
    """The share of images whose map peaks inside the object; flat maps are misses."""
    return float(pointing_hits(maps, masks).double().mean())


def mass_inside(maps: torch.Tensor, masks: torch.Tensor) -> float:
    """The mean share of each map's (non-negative) mass that falls inside the object; a map
    with no mass has none inside."""
    mass = maps.clamp(min=0).flatten(1)
    inside = (mass * masks.flatten(1).float()).sum(1)
    total = mass.sum(1).clamp(min=1e-12)
    return float((inside / total).mean())


def centre_prior(count: int, size: int, sigma: float = 0.25) -> torch.Tensor:
    """The baseline that needs no model: a Gaussian at the image centre (count, size, size),
    sigma as a fraction of the side."""
    axis = torch.linspace(-0.5, 0.5, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    bump = torch.exp(-(x * x + y * y) / (2 * sigma * sigma))
    return bump.expand(count, size, size).clone()


def oracle_maps(masks: torch.Tensor, grid: int) -> torch.Tensor:
    """The best a map at a `grid` x `grid` resolution can do: each object mask averaged onto
    that grid, then upsampled (bilinear) to the image's size as Grad-CAM's maps are."""
    pooled = F.adaptive_avg_pool2d(masks.float().unsqueeze(1), grid)
    return F.interpolate(pooled, size=masks.shape[-2:], mode="bilinear", align_corners=False)[:, 0]


def contrast_saliency(images: torch.Tensor, window: int = 9) -> torch.Tensor:
    """A saliency baseline that learns nothing: the local contrast energy of each image (B, 3,
    H, W), the variance of its luminance in a `window` x `window` neighbourhood. (B, H, W)."""
    luminance = images.float().mean(1, keepdim=True)
    pad = window // 2
    mean = F.avg_pool2d(luminance, window, stride=1, padding=pad, count_include_pad=False)
    square = F.avg_pool2d(luminance**2, window, stride=1, padding=pad, count_include_pad=False)
    return (square - mean**2).clamp_min(0)[:, 0]
