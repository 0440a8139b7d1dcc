"""How colourful are the first layer's kernels? The paper's Figure 3 shows the two towers' conv1
kernels: one tower's largely colour-agnostic, the other's colour-specific. Here each RGB kernel
is split into an opponent colour basis (luminance and two chroma axes, orthonormal, so energy is
kept) and its chroma share is the fraction of its energy off the luminance axis: 0 for a grey
kernel (equal weights on R, G, B), 2/3 expected for random weights, 1 for a pure colour contrast.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from alexnet.errors import InvalidValue
from alexnet.models.inspect import conv_layers, conv_weight

OPPONENT = torch.tensor(
    [
        [1 / math.sqrt(3)] * 3,  # luminance
        [1 / math.sqrt(2), -1 / math.sqrt(2), 0.0],  # red - green
        [1 / math.sqrt(6), 1 / math.sqrt(6), -2 / math.sqrt(6)],
    ]
)  # yellow - blue
GREY = 1 / 3  # a kernel with at most half the chroma share of random weights: mostly luminance


def chroma_share(weight: torch.Tensor) -> torch.Tensor:
    """The chroma share of each RGB kernel of `weight` (out, 3, kH, kW): (out,)."""
    if weight.dim() != 4 or weight.shape[1] != 3:
        raise InvalidValue("weight", tuple(weight.shape), "it must be RGB kernels (out, 3, h, w)")
    opponent = torch.einsum("oc,kchw->kohw", OPPONENT.double(), weight.detach().double().cpu())
    energy = opponent.pow(2).sum((2, 3))
    return (energy[:, 1:].sum(1) / energy.sum(1).clamp_min(1e-30)).float()


def tower_colour(model: nn.Module, layer: str | None = None) -> list[dict[str, float]]:
    """For each tower of the first conv (or `layer`), its kernels' chroma shares: the mean, the
    median and the fraction of grey kernels (chroma share under 1/3, half that of random
    weights). A model without towers has one. Towers are the groups of the conv the layer feeds
    (the paper's two GPUs)."""
    layer = layer or conv_layers(model)[0]
    weight, towers = conv_weight(model, layer)
    shares = chroma_share(weight)
    per_tower = shares.shape[0] // towers
    rows = []
    for tower in range(towers):
        part = shares[tower * per_tower : (tower + 1) * per_tower]
        rows.append(
            {
                "tower": tower + 1,
                "kernels": int(part.numel()),
                "mean chroma share": round(float(part.mean()), 4),
                "median chroma share": round(float(part.median()), 4),
                "grey kernels": round(float((part < GREY).float().mean()), 4),
            }
        )
    return rows


def towers_gap(shares: torch.Tensor, towers: int = 2) -> float:
    """The gap between the two towers' mean chroma shares (`shares`: one per kernel, the
    towers' kernels in order), |tower 1 - tower 2|."""
    if towers != 2 or shares.numel() % 2:
        raise InvalidValue("towers", towers, "the gap needs two towers of equal size")
    first, second = shares.reshape(2, -1).double().mean(1)
    return float((first - second).abs())


def random_halves_gap(shares: torch.Tensor, draws: int = 2000, seed: int = 0) -> float:
    """The gap two towers would show if the kernels were split at random (no towers): the mean
    of |mean(half A) - mean(half B)| over `draws` random equal halves of the same kernels. The
    null for `towers_gap`, measured on the same kernels through the same estimator."""
    generator = torch.Generator().manual_seed(seed)
    values = shares.double().flatten()
    order = torch.stack([torch.randperm(values.numel(), generator=generator) for _ in range(draws)])
    halves = values[order].reshape(draws, 2, -1).mean(2)
    return float((halves[:, 0] - halves[:, 1]).abs().mean())


def relative_change(weight: torch.Tensor, init: torch.Tensor, towers: int = 2) -> list[float]:
    """Per tower, ||W - W0|| / ||W0|| of its kernels: how far training moved them."""
    change = (weight.detach().double().cpu() - init.double().cpu()).reshape(towers, -1)
    return [
        float(c.norm() / w.norm().clamp_min(1e-30))
        for c, w in zip(change, init.double().cpu().reshape(towers, -1))
    ]
