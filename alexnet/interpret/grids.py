"""The interpretation methods as image grids (3, H, W) in [0, 1]: what the TensorBoard callbacks
log and the interpret command saves. Inputs are display images, already de-normalized."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from matplotlib import colormaps
from torchvision.utils import make_grid


def thumbnails(images: torch.Tensor, size: int) -> torch.Tensor:
    """Images (N, 3, H, W) resized (antialiased) to (N, 3, size, size)."""
    if images.shape[-2:] == (size, size):
        return images
    return F.interpolate(
        images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    ).clamp(0, 1)


def heat_overlays(images: torch.Tensor, maps: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """Each map (N, H, W) in [0, 1], coloured by the jet colour map and laid over its image with
    opacity `alpha`: (N, 3, H, W)."""
    heat = torch.from_numpy(colormaps["jet"](maps.detach().float().cpu().clamp(0, 1).numpy()))
    heat = heat[..., :3].permute(0, 3, 1, 2).float()
    return (1 - alpha) * images.float().cpu() + alpha * heat


def cam_grid(images: torch.Tensor, maps: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """Two rows: the images, then their heatmaps over them."""
    rows = torch.cat([images.float().cpu(), heat_overlays(images, maps, alpha)])
    return make_grid(rows, nrow=images.shape[0], padding=2, pad_value=1.0)


def neighbour_grid(
    probes: torch.Tensor, gallery: torch.Tensor, indices: torch.Tensor, size: int = 64
) -> torch.Tensor:
    """One row per probe: the probe, a gap, then its gallery neighbours `indices` (P, k) in
    order, all as `size`-pixel thumbnails (the paper's Figure 4)."""
    blank = torch.ones(1, 3, size, size)
    rows = []
    for probe, found in zip(thumbnails(probes, size), indices.tolist()):
        rows += [probe.unsqueeze(0), blank, thumbnails(gallery[found], size)]
    return make_grid(torch.cat(rows), nrow=indices.shape[1] + 2, padding=2, pad_value=1.0)
