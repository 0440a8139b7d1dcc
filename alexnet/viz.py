"""Pictures of what AlexNet learns: filter grids, feature-map grids, confusion matrices, curves.

Figures are built without pyplot (no global figure registry, no backend switch), so callbacks
and scripts never leak figures; in Jupyter, AlexNetVisualizer's figures show where they are made
(alexnet.display). The grid functions return image tensors (3, H, W) in [0, 1]: the TensorBoard
callbacks log them as they are, and AlexNetVisualizer shows the same tensors in matplotlib
figures, so a notebook and TensorBoard never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import nn
from torchvision.utils import make_grid

from alexnet.data.transforms import IMAGENET_STATS, Stats, denormalize
from alexnet.display import DPI, NotebookFigure, show
from alexnet.errors import InvalidValue
from alexnet.interpret import (
    grad_cam,
    guided_backprop,
    nearest_neighbours,
    occlusion,
    patch_crops,
    top_patches,
)
from alexnet.models.inspect import (
    AlexNetFeatureExtractor,
    conv_layers,
    conv_weight,
)
from alexnet.run_record import read_history


def _scale_each(images: torch.Tensor) -> torch.Tensor:
    """Scale every image of (N, C, H, W) to its own [0, 1] range."""
    flat = images.flatten(1)
    low, high = flat.min(1).values, flat.max(1).values
    span = (high - low).clamp_min(1e-12)
    return (images - low.view(-1, 1, 1, 1)) / span.view(-1, 1, 1, 1)


def filter_grid(weight: torch.Tensor, num_filters: int | None = None, towers: int = 1,
                upscale: int = 4) -> torch.Tensor:
    """A grid of conv kernels: RGB for 3 input channels, else the input-channel mean, grayscale.

    Each kernel is scaled to its own range. With `towers` > 1 (the paper's two GPUs), the kernels
    are laid out as one row block per tower, as in the paper's Figure 3.
    """
    count = weight.shape[0] if num_filters is None else max(1, min(num_filters, weight.shape[0]))
    kernels = weight[:count]
    if kernels.shape[1] != 3:
        kernels = kernels.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    kernels = _scale_each(kernels)
    if upscale > 1:
        kernels = kernels.repeat_interleave(upscale, -1).repeat_interleave(upscale, -2)
    per_tower = -(-count // towers)
    blocks = [kernels[i:i + per_tower] for i in range(0, count, per_tower)]
    row = min(16, per_tower)
    grids = [make_grid(block, nrow=row, padding=2, pad_value=1.0) for block in blocks]
    width = max(g.shape[-1] for g in grids)
    grids = [torch.nn.functional.pad(g, (0, width - g.shape[-1]), value=1.0) for g in grids]
    gap = torch.ones(3, 6 if len(grids) > 1 else 0, width)
    parts = [p for g in grids for p in (g, gap)][:-1]
    return torch.cat(parts, dim=1)


def feature_map_grid(maps: torch.Tensor, num_maps: int | None = None, upscale: int = 1
                     ) -> torch.Tensor:
    """A grid of the channels of `maps` (N, C, H, W): one row per image, each map scaled alone."""
    count = maps.shape[1] if num_maps is None else max(1, min(num_maps, maps.shape[1]))
    tiles = maps[:, :count].float().cpu().flatten(0, 1).unsqueeze(1)
    tiles = _scale_each(tiles).expand(-1, 3, -1, -1)
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
                    axes.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=6,
                              color="white" if rates[i, j] > 0.5 else "black")
    figure.tight_layout()
    return figure


def training_curves_figure(histories: Mapping[str, Sequence[Mapping[str, Any]]],
                           figsize: tuple[float, float] = (12, 4)) -> NotebookFigure:
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
                    axes.plot(epochs, [float("nan") if v is None else v for v in values], style,
                              color=colour, marker="o", markersize=3,
                              label=f"{label} {split}" if len(histories) > 1 else split)
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


def _finish(figure: NotebookFigure, path: str | Path | None, when: bool | None) -> NotebookFigure:
    """Save `figure` to `path` (if given) and show it in a notebook (see alexnet.display)."""
    if path is not None:
        figure.savefig(path, dpi=DPI)
    show(figure, when)
    return figure


def _grid_figure(grid: torch.Tensor, title: str, figsize: tuple[float, float]) -> NotebookFigure:
    figure = NotebookFigure(figsize=figsize)
    axes = figure.subplots()
    axes.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    axes.set_title(title)
    axes.axis("off")
    figure.tight_layout()
    return figure


def _panels(rows: int, cols: int, figsize: tuple[float, float] | None, cell: float = 2.0
            ) -> tuple[NotebookFigure, Any]:
    """A figure of rows x cols image panels (a 2-D array of axes), all without ticks."""
    figure = NotebookFigure(figsize=figsize or (cell * cols, cell * rows + 0.4))
    axes = figure.subplots(rows, cols, squeeze=False)
    for each in axes.flat:
        each.axis("off")
    return figure, axes


def _rgb(image: torch.Tensor, stats: Stats) -> Any:
    """An image (3, H, W) normalized by `stats` as an (H, W, 3) array in [0, 1] for imshow."""
    return denormalize(image.detach().unsqueeze(0), stats)[0].permute(1, 2, 0).numpy()


def _batch(images: torch.Tensor) -> torch.Tensor:
    return images.unsqueeze(0) if images.dim() == 3 else images


def _overlay_figure(images: torch.Tensor, maps: torch.Tensor, title: str, cmap: str,
                    alpha: float, symmetric: bool, figsize: tuple[float, float] | None,
                    stats: Stats) -> NotebookFigure:
    """One panel per image: the de-normalized image under its heatmap."""
    figure, axes = _panels(1, images.shape[0], figsize, cell=3.0)
    for index, each in enumerate(axes[0]):
        heat = maps[index].float().cpu()
        limit = float(heat.abs().max().clamp_min(1e-12)) if symmetric else 1.0
        each.imshow(_rgb(images[index].cpu(), stats))
        each.imshow(heat.numpy(), cmap=cmap, alpha=alpha, vmin=-limit if symmetric else 0.0,
                    vmax=limit, interpolation="bilinear")
        each.set_title(f"image {index}", fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


class AlexNetVisualizer:
    """Filters, feature maps and training curves as matplotlib figures (the seed notebook's API).

    Every plot method returns its Figure, saves it when given `path`, and in a Jupyter notebook
    shows it where it is called, inside loops and functions too (`show=False`: never; `True`:
    always, when in a notebook). In a script nothing pops up and no figure is kept by pyplot.
    """

    def __init__(self, model: nn.Module | None = None, stats: Stats = IMAGENET_STATS) -> None:
        """`stats`: the (mean, std) the images given to the plot methods are normalized with;
        a datamodule's `.stats` (ImageNet's by default, as the built-in synthetic data)."""
        self.model, self.stats = model, stats

    def plot_conv_filters(self, layer_name: str = "features.0", num_filters: int = 16,
                          figsize: tuple[float, float] = (12, 8),
                          path: str | Path | None = None, show: bool | None = None) -> Figure:
        """The first `num_filters` kernels of conv `layer_name` (all if it has fewer)."""
        weight, towers = conv_weight(self._model(), layer_name)
        count = min(num_filters, weight.shape[0])
        grid = filter_grid(weight, count, towers if count == weight.shape[0] else 1)
        figure = _grid_figure(grid, f"{layer_name}: {count} of {weight.shape[0]} filters", figsize)
        return _finish(figure, path, show)

    @staticmethod
    def plot_training_curves(runs: str | Path | Sequence[str | Path],
                             labels: Sequence[str] | None = None,
                             figsize: tuple[float, float] = (12, 4),
                             path: str | Path | None = None, show: bool | None = None) -> Figure:
        """Loss and top-1 per epoch (train and validation) of one run dir or several, read from
        their metrics.json; `labels` name the runs (default: the dirs' names)."""
        dirs = [runs] if isinstance(runs, (str, Path)) else list(runs)
        names = list(labels) if labels is not None else [Path(d).name for d in dirs]
        if len(names) != len(dirs):
            raise InvalidValue("labels", names, f"give one label per run ({len(dirs)})")
        figure = training_curves_figure({n: read_history(d) for n, d in zip(names, dirs)}, figsize)
        return _finish(figure, path, show)

    def _model(self) -> nn.Module:
        if self.model is None:
            raise InvalidValue("model", None, "this AlexNetVisualizer has no model; pass one: "
                               "AlexNetVisualizer(model)")
        return self.model

    def plot_feature_maps(self, image: torch.Tensor, layer_name: str, title: str | None = None,
                          num_maps: int = 12, figsize: tuple[float, float] = (12, 4),
                          path: str | Path | None = None, show: bool | None = None) -> Figure:
        """The first `num_maps` channels of `layer_name`'s output for one image (3, H, W)."""
        model = self._model()
        batch = image.unsqueeze(0) if image.dim() == 3 else image[:1]
        batch = batch.to(next(model.parameters()).device)
        was_training = model.training
        model.eval()
        try:
            with AlexNetFeatureExtractor(model, [layer_name]) as extract, torch.no_grad():
                maps = extract(batch)[layer_name]
        finally:
            model.train(was_training)
        if maps.dim() != 4:
            raise InvalidValue("layer_name", layer_name, "it has no feature maps (not a conv, "
                               "activation or pool layer)")
        count = min(num_maps, maps.shape[1])
        grid = feature_map_grid(maps, count, upscale=max(1, 64 // maps.shape[-1]))
        figure = _grid_figure(grid, title or f"{layer_name}: {count} of {maps.shape[1]} maps",
                              figsize)
        return _finish(figure, path, show)

    def plot_grad_cam(self, images: torch.Tensor, layer: str | None = None,
                      target: int | torch.Tensor | None = None, alpha: float = 0.5,
                      figsize: tuple[float, float] | None = None,
                      path: str | Path | None = None, show: bool | None = None) -> Figure:
        """Grad-CAM of conv `layer` (default: the last) over each image (N, 3, H, W) for `target`
        (default: the predicted class); needs captum."""
        images = _batch(images)
        maps = grad_cam(self._model(), images, target, layer)
        title = f"Grad-CAM at {layer or conv_layers(self._model())[-1]}"
        figure = _overlay_figure(images, maps, title, "jet", alpha, False, figsize, self.stats)
        return _finish(figure, path, show)

    def plot_occlusion(self, images: torch.Tensor, target: int | torch.Tensor | None = None,
                       window: int = 16, stride: int = 8, alpha: float = 0.6,
                       figsize: tuple[float, float] | None = None,
                       path: str | Path | None = None, show: bool | None = None) -> Figure:
        """Occlusion over each image: red where hiding a `window` square lowers the `target`
        logit (evidence for), blue where it raises it; needs captum."""
        images = _batch(images)
        maps = occlusion(self._model(), images, target, window, stride)
        figure = _overlay_figure(images, maps, f"occlusion ({window} px window, stride {stride})",
                                 "RdBu_r", alpha, True, figsize, self.stats)
        return _finish(figure, path, show)

    def plot_guided_backprop(self, images: torch.Tensor,
                             target: int | torch.Tensor | None = None,
                             figsize: tuple[float, float] | None = None,
                             path: str | Path | None = None, show: bool | None = None) -> Figure:
        """Guided backpropagation of each image, scaled to its own range; needs captum."""
        images = _batch(images)
        grads = _scale_each(guided_backprop(self._model(), images, target).float().cpu())
        figure, axes = _panels(1, images.shape[0], figsize, cell=3.0)
        for index, each in enumerate(axes[0]):
            each.imshow(grads[index].permute(1, 2, 0).numpy())
            each.set_title(f"image {index}", fontsize=8)
        figure.suptitle("guided backpropagation")
        figure.tight_layout()
        return _finish(figure, path, show)

    def plot_top_patches(self, images: torch.Tensor, layer: str = "conv1",
                         units: Sequence[int] = tuple(range(8)), k: int = 9,
                         figsize: tuple[float, float] | None = None,
                         path: str | Path | None = None, show: bool | None = None) -> Figure:
        """One row per unit of `layer`: the `k` patches of `images` that excite it most (their
        receptive fields), best first, titled with the activation."""
        patches = top_patches(self._model(), images, layer, units, k)
        crops = patch_crops(images.detach().cpu(), patches)
        figure, axes = _panels(len(patches), k, figsize, cell=1.2)
        for row, unit in enumerate(patches):
            axes[row, 0].set_title(f"unit {unit}", fontsize=7, loc="left")
            for column, (patch, crop) in enumerate(zip(patches[unit], crops[unit])):
                axes[row, column].imshow(_rgb(crop, self.stats), interpolation="nearest")
                axes[row, column].text(0, 0, f"{patch.activation:.2g}", fontsize=6,
                                       va="top", color="yellow")
        figure.suptitle(f"{layer}: top {k} patches per unit")
        figure.tight_layout()
        return _finish(figure, path, show)

    def plot_nearest_neighbours(self, probes: torch.Tensor, gallery: torch.Tensor, k: int = 5,
                                layer: str | None = None,
                                figsize: tuple[float, float] | None = None,
                                path: str | Path | None = None,
                                show: bool | None = None) -> Figure:
        """One row per probe: the probe, then its `k` nearest gallery images in the last hidden
        layer (or `layer`), titled with their distance (the paper's Figure 4)."""
        probes = _batch(probes)
        distances, indices = nearest_neighbours(self._model(), probes, gallery, k, layer)
        figure, axes = _panels(probes.shape[0], k + 1, figsize, cell=1.6)
        for row in range(probes.shape[0]):
            axes[row, 0].imshow(_rgb(probes[row].cpu(), self.stats))
            axes[row, 0].set_title("probe", fontsize=7)
            for column in range(indices.shape[1]):
                axes[row, column + 1].imshow(_rgb(gallery[int(indices[row, column])].cpu(),
                                                              self.stats))
                axes[row, column + 1].set_title(f"{float(distances[row, column]):.3g}",
                                                fontsize=7)
        figure.suptitle("nearest neighbours")
        figure.tight_layout()
        return _finish(figure, path, show)
