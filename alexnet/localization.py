"""Does an attribution map point at the object? The synthetic images know where their object
is (`SyntheticImageNet.object_mask`); these measures compare a map with that mask."""

from __future__ import annotations

import torch


def pointing_game(maps: torch.Tensor, masks: torch.Tensor) -> float:
    """The share of images whose map peaks inside the object (maps, masks: (B, H, W))."""
    flat = maps.flatten(1)
    peaks = flat.argmax(dim=1)
    hits = masks.flatten(1).gather(1, peaks.unsqueeze(1)).squeeze(1)
    return float(hits.float().mean())


def mass_inside(maps: torch.Tensor, masks: torch.Tensor) -> float:
    """The mean share of each map's (non-negative) mass that falls inside the object."""
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
