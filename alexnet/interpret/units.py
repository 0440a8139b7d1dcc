"""What single units see and how images group: receptive fields, the patches that most excite a
unit (Zeiler and Fergus' favourite patches) and nearest neighbours in the last hidden layer (the
paper's Figure 4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from alexnet.errors import InvalidValue, check_int
from alexnet.interpret.common import device_of, evaluating
from alexnet.models.inspect import (
    AlexNetFeatureExtractor,
    activation_layers,
    layer_aliases,
    resolve_layer,
    weighted_layers,
)


class ReceptiveField(NamedTuple):
    """Output position y of a layer sees input rows [y * stride - padding, ... + size)."""

    size: int
    stride: int
    padding: int


class Patch(NamedTuple):
    """One favourite patch: the image's index, its box (y0, x0, y1, x1; end exclusive, clipped
    to the image) and the unit's activation there."""

    image: int
    box: tuple[int, int, int, int]
    activation: float


def receptive_field(model: nn.Module, layer: str) -> ReceptiveField:
    """The receptive field of a unit of `layer`, a layer of the model's `features` Sequential,
    from its convs and max-pools (e.g. AlexNet conv1: 11 px, stride 4; conv2: 51 px, stride 8)."""
    name = resolve_layer(model, layer)
    parts = name.split(".")
    features = getattr(model, "features", None)
    if not isinstance(features, nn.Sequential) or parts[0] != "features" or len(parts) < 2:
        raise InvalidValue("layer", layer, "it must be a layer of the model's `features`")
    size, stride, padding = 1, 1, 0
    for module in list(features)[: int(parts[1]) + 1]:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            kernel, step, pad, dilation = (
                _first(module.kernel_size),
                _first(module.stride),
                _first(module.padding),
                _first(getattr(module, "dilation", 1)),
            )
            size += (kernel - 1) * dilation * stride
            padding += pad * stride
            stride *= step
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            raise InvalidValue(
                "layer",
                layer,
                "units after an adaptive pool see a varying field; choose an earlier layer",
            )
    return ReceptiveField(size, stride, padding)


def top_patches(
    model: nn.Module,
    images: torch.Tensor,
    layer: str = "conv1",
    units: Sequence[int] | None = None,
    k: int = 9,
    batch_size: int = 64,
) -> dict[int, list[Patch]]:
    """For each unit (channel) of `layer`, the `k` images where it is most active (at most one
    patch per image), best first, with the input patch its strongest position sees."""
    check_int("k", k)
    field = receptive_field(model, layer)
    maxima, positions, width = _unit_maxima(model, images, layer, units, batch_size)
    chosen = list(range(maxima.shape[1])) if units is None else list(units)
    height, image_width = images.shape[-2:]
    patches: dict[int, list[Patch]] = {}
    for column, unit in enumerate(chosen):
        values, order = maxima[:, column].topk(min(k, maxima.shape[0]))
        patches[unit] = []
        for value, index in zip(values.tolist(), order.tolist()):
            y, x = divmod(int(positions[index, column]), width)
            y0, x0 = y * field.stride - field.padding, x * field.stride - field.padding
            box = (
                max(0, y0),
                max(0, x0),
                min(height, y0 + field.size),
                min(image_width, x0 + field.size),
            )
            patches[unit].append(Patch(index, box, value))
    return patches


def patch_crops(
    images: torch.Tensor, patches: dict[int, list[Patch]]
) -> dict[int, list[torch.Tensor]]:
    """The image crops (C, h, w) of `top_patches`' boxes, unit by unit."""
    return {
        unit: [images[p.image, :, p.box[0] : p.box[2], p.box[1] : p.box[3]] for p in found]
        for unit, found in patches.items()
    }


def _unit_maxima(
    model: nn.Module, images: torch.Tensor, layer: str, units: Sequence[int] | None, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Each unit's largest activation per image (N, U), its flat position and the map width."""
    maxima, positions, width = [], [], 1
    device = device_of(model)
    with evaluating(model), AlexNetFeatureExtractor(model, [layer]) as extract, torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            maps = extract(images[start : start + batch_size].to(device))[layer]
            if maps.dim() != 4:
                raise InvalidValue("layer", layer, "it has no feature maps")
            if units is not None:
                bad = [u for u in units if not 0 <= u < maps.shape[1]]
                if bad:
                    raise InvalidValue(
                        "units", list(units), f"{layer} has units 0..{maps.shape[1] - 1}"
                    )
                maps = maps[:, list(units)]
            width = maps.shape[-1]
            best = maps.flatten(2).max(2)
            maxima.append(best.values.cpu())
            positions.append(best.indices.cpu())
    return torch.cat(maxima), torch.cat(positions), width


def embedding_layer(model: nn.Module) -> str:
    """The last hidden layer's alias, after its activation: ``act7`` (fc7) for AlexNet,
    ``act4`` (fc4) for MiniAlexNet; the layer's own alias when it has no activation alias."""
    fcs = [alias for alias in weighted_layers(model) if alias.startswith("fc")]
    if len(fcs) < 2:
        raise InvalidValue("model", type(model).__name__, "it has no hidden linear layer")
    hidden = fcs[-2]
    act = "act" + hidden[2:]
    return act if act in activation_layers(model) and act in layer_aliases(model) else hidden


def embed(
    model: nn.Module, images: torch.Tensor, layer: str | None = None, batch_size: int = 64
) -> torch.Tensor:
    """The flattened outputs (N, D) of `layer` (default: `embedding_layer`), in batches."""
    layer = layer or embedding_layer(model)
    check_int("batch_size", batch_size)
    device = device_of(model)
    parts = []
    with evaluating(model), AlexNetFeatureExtractor(model, [layer]) as extract, torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            parts.append(extract(images[start : start + batch_size].to(device))[layer].flatten(1))
    return torch.cat(parts)


def nearest_neighbours(
    model: nn.Module,
    probes: torch.Tensor,
    gallery: torch.Tensor,
    k: int = 5,
    layer: str | None = None,
    batch_size: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The `k` gallery images nearest to each probe by Euclidean distance between their `layer`
    outputs (default: the last hidden layer, as the paper's Figure 4). Returns (distances,
    indices), each (P, k), nearest first."""
    check_int("k", k)
    layer = layer or embedding_layer(model)
    probe_features = embed(model, probes, layer, batch_size)
    gallery_features = embed(model, gallery, layer, batch_size)
    distances = torch.cdist(
        probe_features, gallery_features, compute_mode="donot_use_mm_for_euclid_dist"
    )
    return distances.topk(min(k, gallery.shape[0]), dim=1, largest=False)


def _first(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else int(value)
