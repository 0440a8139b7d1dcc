"""AlexNetVisualizer: filters, feature maps, attributions and training curves as matplotlib
figures, for notebooks and scripts; in Jupyter its figures show where they are made
(alexnet/viz/display.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from alexnet.data.transforms import IMAGENET_STATS, Stats
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
from alexnet.record import read_history
from alexnet.viz.grids import (
    feature_map_grid,
    filter_grid,
    scale_each,
    training_curves_figure,
)
from alexnet.viz.panels import (
    as_batch,
    finish_figure,
    grid_figure,
    image_panels,
    overlay_figure,
    to_rgb,
)


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

    def plot_conv_filters(
        self,
        layer_name: str = "features.0",
        num_filters: int = 16,
        figsize: tuple[float, float] = (12, 8),
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """The first `num_filters` kernels of conv `layer_name` (all if it has fewer)."""
        weight, towers = conv_weight(self._model(), layer_name)
        count = min(num_filters, weight.shape[0])
        grid = filter_grid(weight, count, towers if count == weight.shape[0] else 1)
        figure = grid_figure(grid, f"{layer_name}: {count} of {weight.shape[0]} filters", figsize)
        return finish_figure(figure, path, show)

    @staticmethod
    def plot_training_curves(
        runs: str | Path | Sequence[str | Path],
        labels: Sequence[str] | None = None,
        figsize: tuple[float, float] = (12, 4),
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """Loss and top-1 per epoch (train and validation) of one run dir or several, read from
        their metrics.json; `labels` name the runs (default: the dirs' names)."""
        dirs = [runs] if isinstance(runs, (str, Path)) else list(runs)
        names = list(labels) if labels is not None else [Path(d).name for d in dirs]
        if len(names) != len(dirs):
            raise InvalidValue("labels", names, f"give one label per run ({len(dirs)})")
        figure = training_curves_figure({n: read_history(d) for n, d in zip(names, dirs)}, figsize)
        return finish_figure(figure, path, show)

    def _model(self) -> nn.Module:
        if self.model is None:
            raise InvalidValue(
                "model",
                None,
                "this AlexNetVisualizer has no model; pass one: AlexNetVisualizer(model)",
            )
        return self.model

    def plot_feature_maps(
        self,
        image: torch.Tensor,
        layer_name: str,
        title: str | None = None,
        num_maps: int = 12,
        figsize: tuple[float, float] = (12, 4),
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
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
            raise InvalidValue(
                "layer_name",
                layer_name,
                "it has no feature maps (not a conv, activation or pool layer)",
            )
        count = min(num_maps, maps.shape[1])
        grid = feature_map_grid(maps, count, upscale=max(1, 64 // maps.shape[-1]))
        figure = grid_figure(
            grid, title or f"{layer_name}: {count} of {maps.shape[1]} maps", figsize
        )
        return finish_figure(figure, path, show)

    def plot_grad_cam(
        self,
        images: torch.Tensor,
        layer: str | None = None,
        target: int | torch.Tensor | None = None,
        alpha: float = 0.5,
        figsize: tuple[float, float] | None = None,
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """Grad-CAM of conv `layer` (default: the last) over each image (N, 3, H, W) for `target`
        (default: the predicted class); needs captum."""
        images = as_batch(images)
        maps = grad_cam(self._model(), images, target, layer)
        title = f"Grad-CAM at {layer or conv_layers(self._model())[-1]}"
        figure = overlay_figure(images, maps, title, "jet", alpha, False, figsize, self.stats)
        return finish_figure(figure, path, show)

    def plot_occlusion(
        self,
        images: torch.Tensor,
        target: int | torch.Tensor | None = None,
        window: int = 16,
        stride: int = 8,
        alpha: float = 0.6,
        figsize: tuple[float, float] | None = None,
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """Occlusion over each image: red where hiding a `window` square lowers the `target`
        logit (evidence for), blue where it raises it; needs captum."""
        images = as_batch(images)
        maps = occlusion(self._model(), images, target, window, stride)
        figure = overlay_figure(
            images,
            maps,
            f"occlusion ({window} px window, stride {stride})",
            "RdBu_r",
            alpha,
            True,
            figsize,
            self.stats,
        )
        return finish_figure(figure, path, show)

    def plot_guided_backprop(
        self,
        images: torch.Tensor,
        target: int | torch.Tensor | None = None,
        figsize: tuple[float, float] | None = None,
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """Guided backpropagation of each image, scaled to its own range; needs captum."""
        images = as_batch(images)
        grads = scale_each(guided_backprop(self._model(), images, target).float().cpu())
        figure, axes = image_panels(1, images.shape[0], figsize, cell=3.0)
        for index, each in enumerate(axes[0]):
            each.imshow(grads[index].permute(1, 2, 0).numpy())
            each.set_title(f"image {index}", fontsize=8)
        figure.suptitle("guided backpropagation")
        figure.tight_layout()
        return finish_figure(figure, path, show)

    def plot_top_patches(
        self,
        images: torch.Tensor,
        layer: str = "conv1",
        units: Sequence[int] = tuple(range(8)),
        k: int = 9,
        figsize: tuple[float, float] | None = None,
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """One row per unit of `layer`: the `k` patches of `images` that excite it most (their
        receptive fields), best first, titled with the activation."""
        patches = top_patches(self._model(), images, layer, units, k)
        crops = patch_crops(images.detach().cpu(), patches)
        figure, axes = image_panels(len(patches), k, figsize, cell=1.2)
        for row, unit in enumerate(patches):
            axes[row, 0].set_title(f"unit {unit}", fontsize=7, loc="left")
            for column, (patch, crop) in enumerate(zip(patches[unit], crops[unit])):
                axes[row, column].imshow(to_rgb(crop, self.stats), interpolation="nearest")
                axes[row, column].text(
                    0, 0, f"{patch.activation:.2g}", fontsize=6, va="top", color="yellow"
                )
        figure.suptitle(f"{layer}: top {k} patches per unit")
        figure.tight_layout()
        return finish_figure(figure, path, show)

    def plot_nearest_neighbours(
        self,
        probes: torch.Tensor,
        gallery: torch.Tensor,
        k: int = 5,
        layer: str | None = None,
        figsize: tuple[float, float] | None = None,
        path: str | Path | None = None,
        show: bool | None = None,
    ) -> Figure:
        """One row per probe: the probe, then its `k` nearest gallery images in the last hidden
        layer (or `layer`), titled with their distance (the paper's Figure 4)."""
        probes = as_batch(probes)
        distances, indices = nearest_neighbours(self._model(), probes, gallery, k, layer)
        figure, axes = image_panels(probes.shape[0], k + 1, figsize, cell=1.6)
        for row in range(probes.shape[0]):
            axes[row, 0].imshow(to_rgb(probes[row].cpu(), self.stats))
            axes[row, 0].set_title("probe", fontsize=7)
            for column in range(indices.shape[1]):
                axes[row, column + 1].imshow(
                    to_rgb(gallery[int(indices[row, column])].cpu(), self.stats)
                )
                axes[row, column + 1].set_title(f"{float(distances[row, column]):.3g}", fontsize=7)
        figure.suptitle("nearest neighbours")
        figure.tight_layout()
        return finish_figure(figure, path, show)
