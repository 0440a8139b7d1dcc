"""Pictures as data: filter grids and feature-map grids (image tensors (3, H, W) in [0, 1]),
a confusion-matrix figure and training-curve figures.

Figures are built without pyplot (no global figure registry, no backend switch), so callbacks
and scripts never leak figures. The TensorBoard callbacks log the grids as they are and
AlexNetVisualizer shows the same tensors in matplotlib figures, so a notebook and TensorBoard
never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from matplotlib.figure import Figure
from torchvision.utils import make_grid

from alexnet.viz.display import NotebookFigure


def scale_each(images: torch.Tensor) -> torch.Tensor:
    """Scale every image of (N, C, H, W) to its own [0, 1] range."""
    flat = images.flatten(1)
    low, high = flat.min(1).values, flat.max(1).values
    span = (high - low).clamp_min(1e-12)
    return (images - low.view(-1, 1, 1, 1)) / span.view(-1, 1, 1, 1)


def filter_grid(
    weight: torch.Tensor, num_filters: int | None = None, towers: int = 1, upscale: int = 4
) -> torch.Tensor:
    """A grid of conv kernels: RGB for 3 input channels, else the input-channel mean, grayscale.

    Each kernel is scaled to its own range. With `towers` > 1 (the paper's two GPUs), the kernels
    are laid out as one row block per tower, as in the paper's Figure 3.
    """
    count = weight.shape[0] if num_filters is None else max(1, min(num_filters, weight.shape[0]))
    kernels = weight[:count]
    if kernels.shape[1] != 3:
        kernels = kernels.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    kernels = scale_each(kernels)
    if upscale > 1:
        kernels = kernels.repeat_interleave(upscale, -1).repeat_interleave(upscale, -2)
    per_tower = -(-count // towers)
    blocks = [kernels[i : i + per_tower] for i in range(0, count, per_tower)]
    row = min(16, per_tower)
    grids = [make_grid(block, nrow=row, padding=2, pad_value=1.0) for block in blocks]
    width = max(g.shape[-1] for g in grids)
    grids = [torch.nn.functional.pad(g, (0, width - g.shape[-1]), value=1.0) for g in grids]
    gap = torch.ones(3, 6 if len(grids) > 1 else 0, width)
    parts = [p for g in grids for p in (g, gap)][:-1]
    return torch.cat(parts, dim=1)


def feature_map_grid(
    maps: torch.Tensor, num_maps: int | None = None, upscale: int = 1
) -> torch.Tensor:
    """A grid of the channels of `maps` (N, C, H, W): one row per image, each map scaled alone."""
    count = maps.shape[1] if num_maps is None else max(1, min(num_maps, maps.shape[1]))
    tiles = maps[:, :count].float().cpu().flatten(0, 1).unsqueeze(1)
    tiles = scale_each(tiles).expand(-1, 3, -1, -1)
    if upscale > 1:
        tiles = tiles.repeat_interleave(upscale, -1).repeat_interleave(upscale, -2)
    return make_grid(tiles, nrow=count, padding=1, pad_value=1.0)


def confusion_figure(matrix: torch.Tensor, class_names: list[str] | None = None) -> Figure:
    """The confusion matrix (true rows, predicted columns), normalized per true class."""
    matrix = matrix.float().cpu()
    rates = matrix / matrix.sum(1, keepdim=True).clamp_min(1)
    count = matrix.shape[0]
    size = min(12.0, 3 + 0.4 * count)
    figure = Figure(figsize=(size, size))
    axes = figure.subplots()
    axes.imshow(rates.numpy(), cmap="Blues", vmin=0, vmax=1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if count <= 30:
        names = class_names or [str(i) for i in range(count)]
        axes.set_xticks(range(count), names, rotation=90, fontsize=7)
        axes.set_yticks(range(count), names, fontsize=7)
        for i in range(count):
            for j in range(count):
                if matrix[i, j] > 0:
                    axes.text(
                        j,
                        i,
                        int(matrix[i, j]),
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if rates[i, j] > 0.5 else "black",
                    )
    figure.tight_layout()
    return figure


def training_curves_figure(
    histories: Mapping[str, Sequence[Mapping[str, Any]]], figsize: tuple[float, float] = (12, 4)
) -> NotebookFigure:
    """Loss (left) and top-1 accuracy (right) per epoch, training solid and validation dashed,
    for each run of `histories` (label -> its metrics.json history)."""
    figure = NotebookFigure(figsize=figsize)
    loss_axes, acc_axes = figure.subplots(1, 2)
    for index, (label, history) in enumerate(histories.items()):
        colour = f"C{index % 10}"
        epochs = [entry["epoch"] + 1 for entry in history]
        for axes, metric in ((loss_axes, "loss"), (acc_axes, "acc1")):
            for split, style in (("train", "-"), ("val", "--")):
                values = [entry.get(f"{split}/{metric}") for entry in history]
                if any(v is not None for v in values):
                    axes.plot(
                        epochs,
                        [float("nan") if v is None else v for v in values],
                        style,
                        color=colour,
                        marker="o",
                        markersize=3,
                        label=f"{label} {split}" if len(histories) > 1 else split,
                    )
    loss_axes.set_ylabel("cross-entropy loss")
    acc_axes.set_ylabel("top-1 accuracy")
    acc_axes.set_ylim(0, 1)
    for axes in (loss_axes, acc_axes):
        axes.set_xlabel("epoch")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle("Training curves")
    figure.tight_layout()
    return figure
