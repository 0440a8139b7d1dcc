"""The figures AlexNetVisualizer draws its plots on: panels of images, heatmap overlays, a grid
tensor shown as a figure, and saving or showing a finished figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from alexnet.data.transforms import Stats, denormalize
from alexnet.viz.display import DPI, NotebookFigure, show


def finish_figure(
    figure: NotebookFigure, path: str | Path | None, when: bool | None
) -> NotebookFigure:
    """Save `figure` to `path` (if given) and show it in a notebook (see alexnet.viz.display)."""
    if path is not None:
        figure.savefig(path, dpi=DPI)
    show(figure, when)
    return figure


def grid_figure(grid: torch.Tensor, title: str, figsize: tuple[float, float]) -> NotebookFigure:
    figure = NotebookFigure(figsize=figsize)
    axes = figure.subplots()
    axes.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    axes.set_title(title)
    axes.axis("off")
    figure.tight_layout()
    return figure


def image_panels(
    rows: int, cols: int, figsize: tuple[float, float] | None, cell: float = 2.0
) -> tuple[NotebookFigure, Any]:
    """A figure of rows x cols image panels (a 2-D array of axes), all without ticks."""
    figure = NotebookFigure(figsize=figsize or (cell * cols, cell * rows + 0.4))
    axes = figure.subplots(rows, cols, squeeze=False)
    for each in axes.flat:
        each.axis("off")
    return figure, axes


def to_rgb(image: torch.Tensor, stats: Stats) -> Any:
    """An image (3, H, W) normalized by `stats` as an (H, W, 3) array in [0, 1] for imshow."""
    return denormalize(image.detach().unsqueeze(0), stats)[0].permute(1, 2, 0).numpy()


def as_batch(images: torch.Tensor) -> torch.Tensor:
    return images.unsqueeze(0) if images.dim() == 3 else images


def overlay_figure(
    images: torch.Tensor,
    maps: torch.Tensor,
    title: str,
    cmap: str,
    alpha: float,
    symmetric: bool,
    figsize: tuple[float, float] | None,
    stats: Stats,
) -> NotebookFigure:
    """One panel per image: the de-normalized image under its heatmap."""
    figure, axes = image_panels(1, images.shape[0], figsize, cell=3.0)
    for index, each in enumerate(axes[0]):
        heat = maps[index].float().cpu()
        limit = float(heat.abs().max().clamp_min(1e-12)) if symmetric else 1.0
        each.imshow(to_rgb(images[index].cpu(), stats))
        each.imshow(
            heat.numpy(),
            cmap=cmap,
            alpha=alpha,
            vmin=-limit if symmetric else 0.0,
            vmax=limit,
            interpolation="bilinear",
        )
        each.set_title(f"image {index}", fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
