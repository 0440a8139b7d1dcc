"""The interpret command's report: what a model learned, as figures and one index page.

Probes are the first images of a split; the gallery for nearest neighbours is the first training
images (their augmentation drawn from a fixed seed), as the paper's Figure 4 searched the
training set. Every figure is made by `AlexNetVisualizer`, so a notebook shows the same pictures.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lightning import LightningDataModule
from torch import nn

from alexnet.data.samples import fixed_samples
from alexnet.errors import check_choice, check_int
from alexnet.interpret.colour import tower_colour
from alexnet.models.inspect import conv_layers, conv_weight
from alexnet.tables import markdown_table
from alexnet.viz import AlexNetVisualizer


@dataclass
class ReportSettings:
    """What the report draws, and how much of the data it reads."""

    split: str = "val"  # probes and top-patch images come from this split
    probes: int = 6  # images for Grad-CAM, occlusion, guided backprop and neighbours
    gallery: int = 256  # training images searched for neighbours
    k: int = 6  # neighbours per probe
    layer: str | None = None  # Grad-CAM's conv layer; None: the last
    units: int = 8  # units (channels) per conv layer in the top-patch figures
    patch_images: int = 256  # images searched for each unit's favourite patches
    top_k: int = 8  # patches per unit
    window: int | None = None  # occlusion window (px); None: an eighth of the image
    stride: int | None = None  # occlusion stride (px); None: half the window

    def check(self) -> None:
        check_choice("report.split", self.split, ("train", "val", "test"))
        for key in ("probes", "gallery", "k", "units", "patch_images", "top_k", "window", "stride"):
            if getattr(self, key) is not None or key not in ("window", "stride"):
                check_int(f"report.{key}", getattr(self, key), minimum=1)


@dataclass
class ReportFigure:
    file: str
    title: str
    caption: str


def write_report(
    model: nn.Module,
    datamodule: LightningDataModule,
    out: Path,
    settings: ReportSettings,
    about: dict[str, Any],
) -> list[ReportFigure]:
    """Draw every figure of `model` on `datamodule`'s images into `out`, then index.md and
    index.html listing them under `about` (where the model came from). Returns the figures."""
    settings.check()
    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    visualizer = AlexNetVisualizer(model, stats=datamodule.stats)
    probes, _ = fixed_samples(datamodule, settings.split, settings.probes)
    size = probes.shape[-1]
    window = settings.window or max(4, size // 8)
    stride = settings.stride or max(1, window // 2)
    convs = conv_layers(model)
    figures: list[ReportFigure] = []

    def draw(file: str, title: str, caption: str, plot: Callable[[Path], Any]) -> None:
        plot(out / file)
        figures.append(ReportFigure(file, title, caption))

    first_weight, towers = conv_weight(model, convs[0])
    draw(
        "filters.png",
        f"{convs[0]} filters",
        f"All {first_weight.shape[0]} kernels of {convs[0]}"
        + (f", one block per tower ({towers}), as the paper's Figure 3." if towers > 1 else "."),
        lambda path: visualizer.plot_conv_filters(
            convs[0], first_weight.shape[0], path=path, show=False
        ),
    )
    draw(
        "grad_cam.png",
        "Grad-CAM",
        f"Grad-CAM at {settings.layer or convs[-1]} for the "
        f"predicted class of the first {len(probes)} {settings.split} images.",
        lambda path: visualizer.plot_grad_cam(probes, settings.layer, path=path, show=False),
    )
    draw(
        "occlusion.png",
        "Occlusion",
        f"How the predicted class's logit drops when a {window} px "
        f"square (stride {stride}) is greyed out: red, evidence for the class.",
        lambda path: visualizer.plot_occlusion(
            probes, window=window, stride=stride, path=path, show=False
        ),
    )
    draw(
        "guided_backprop.png",
        "Guided backpropagation",
        "The input gradient of the predicted "
        "class with only positive gradients passed back through each ReLU.",
        lambda path: visualizer.plot_guided_backprop(probes, path=path, show=False),
    )
    images, _ = fixed_samples(datamodule, settings.split, settings.patch_images)
    for conv in convs:
        units = tuple(range(min(settings.units, conv_weight(model, conv)[0].shape[0])))
        draw(
            f"top_patches_{conv}.png",
            f"{conv}: favourite patches",
            f"For units {units[0]}..{units[-1]} of {conv}: the {settings.top_k} patches of "
            f"{len(images)} {settings.split} images that excite it most (its receptive field "
            "at its strongest position; one patch per image), best first.",
            lambda path, conv=conv, units=units: visualizer.plot_top_patches(
                images, conv, units, settings.top_k, path=path, show=False
            ),
        )
    gallery, _ = fixed_samples(datamodule, "train", settings.gallery)
    draw(
        "nearest_neighbours.png",
        "Nearest neighbours (Figure 4)",
        f"Each probe, then its {settings.k} nearest of the first {len(gallery)} training images "
        "by Euclidean distance in the last hidden layer (fc7 in AlexNet), as the paper's "
        "Figure 4; titles are the distances.",
        lambda path: visualizer.plot_nearest_neighbours(
            probes, gallery, settings.k, path=path, show=False
        ),
    )
    colour = tower_colour(model)
    (out / "tower_colour.json").write_text(json.dumps(colour, indent=2) + "\n")
    _write_index(out, figures, colour, about, settings)
    return figures


def _write_index(
    out: Path,
    figures: list[ReportFigure],
    colour: list[dict[str, Any]],
    about: dict[str, Any],
    settings: ReportSettings,
) -> None:
    facts = {**about, "settings": asdict(settings)}
    lines = [
        "# What the model learned",
        "",
        *(f"- {k}: `{v}`" for k, v in facts.items()),
        "",
        "## Colour in the first layer, per tower",
        "",
        "Chroma share: the fraction of a kernel's energy off the luminance axis (0: grey, "
        "2/3: random weights, 1: pure colour contrast); grey kernels: under 1/3.",
        "",
        markdown_table(colour),
    ]
    for figure in figures:
        lines += [
            f"## {figure.title}",
            "",
            figure.caption,
            "",
            f"![{figure.title}]({figure.file})",
            "",
        ]
    (out / "index.md").write_text("\n".join(lines))
    cells = "".join(
        f"<h2>{html.escape(f.title)}</h2><p>{html.escape(f.caption)}</p>"
        f'<img src="{html.escape(f.file)}" style="max-width:100%">'
        for f in figures
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
        for row in colour
    )
    head = "".join(f"<th>{html.escape(k)}</th>" for k in colour[0])
    facts_html = "".join(
        f"<li>{html.escape(k)}: <code>{html.escape(str(v))}</code></li>" for k, v in facts.items()
    )
    (out / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>What the model learned</title>"
        f"<h1>What the model learned</h1><ul>{facts_html}</ul>"
        "<h2>Colour in the first layer, per tower</h2>"
        f"<table border=1><tr>{head}</tr>{rows}</table>{cells}\n"
    )
