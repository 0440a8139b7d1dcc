"""Building blocks and checks that AlexNet and MiniAlexNet share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from alexnet.errors import InvalidValue, check_choice, check_int
from alexnet.models.activations import make_activation

POOLINGS: dict[str, tuple[int, int]] = {
    "overlapping": (3, 2),  # the paper's 3x3 windows, stride 2
    "non_overlapping": (2, 2),
}
# torch.nn.init gains by activation; the others are ReLU-like and take ReLU's gain.
INIT_GAINS = {"tanh": "tanh", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu"}
# The paper's LRN constants; nn.LocalResponseNorm divides alpha by size, as the authors' code did.
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0
# The paper's inputs were 0-255 pixels less the mean; ours are standardized, so its units are
# about 255 * 0.226 (ImageNet's mean std) times smaller. LRN at lrn_scale s computes on units
# s times larger (alpha * s^2): the paper's normalization up to a constant factor. At s = 0
# (alpha 0) it multiplies by k^-beta and normalizes nothing: the gain-matched control arm.
PAPER_LRN_SCALE = 57.6


def activation_block(
    name: str,
    params: Mapping[str, Any] | None,
    lrn: bool = False,
    dropout: float = 0.0,
    lrn_scale: float = 1.0,
) -> nn.Module:
    """The activation `name`, followed by LRN (at `lrn_scale`) and/or dropout when asked (one
    module slot)."""
    parts = [make_activation(name, params)]
    if lrn:
        parts.append(nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA * lrn_scale**2, LRN_BETA, LRN_K))
    if dropout > 0:
        parts.append(nn.Dropout(p=dropout))
    return parts[0] if len(parts) == 1 else nn.Sequential(*parts)


def max_pool(pooling: str) -> nn.MaxPool2d:
    """A max-pool of the named kind (overlapping 3/2 or non-overlapping 2/2)."""
    kernel, stride = POOLINGS[pooling]
    return nn.MaxPool2d(kernel_size=kernel, stride=stride)


def dropout_slot(p: float) -> nn.Module:
    """Dropout with probability `p`, or an Identity in its slot when `p` is 0."""
    return nn.Dropout(p=p) if p > 0 else nn.Identity()


def check_knobs(
    num_classes: int,
    dropout: float,
    lrn: bool,
    pooling: str,
    widths: tuple,
    count: int,
    hidden: int,
    init: str,
    inits: tuple[str, ...],
    in_channels: int,
    lrn_scale: float = 1.0,
) -> None:
    """Validate the knobs both networks share; `count` is how many conv widths there are."""
    for key, value in (
        ("num_classes", num_classes),
        ("hidden", hidden),
        ("in_channels", in_channels),
    ):
        check_int(key, value, minimum=1)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise InvalidValue("dropout", dropout, "it must be a probability in [0, 1)")
    if not isinstance(lrn, bool):
        raise InvalidValue("lrn", lrn, "it must be true or false")
    if isinstance(lrn_scale, bool) or not isinstance(lrn_scale, (int, float)) or lrn_scale < 0:
        raise InvalidValue(
            "lrn_scale",
            lrn_scale,
            f"it must be a number >= 0 (1: the constants as given; {PAPER_LRN_SCALE}: the "
            "paper's input scale; 0: LRN's constant gain k^-beta alone, its control arm)",
        )
    check_choice("pooling", pooling, POOLINGS)
    check_choice("init", init, inits)
    if len(widths) != count or any(
        isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths
    ):
        raise InvalidValue(
            "widths",
            list(widths),
            f"it must be {count} positive integers (the channels of conv1..conv{count})",
        )


def min_input_size(features: nn.Sequential, limit: int = 4096) -> int:
    """The smallest square input for which every conv and pool of `features` has an output."""
    for size in range(1, limit + 1):
        if _output_size(features, size) >= 1:
            return size
    raise ValueError(f"no input up to {limit} pixels fits this model")


def _output_size(features: nn.Sequential, size: int) -> int:
    for module in features:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            kernel, stride, padding = (
                _first(module.kernel_size),
                _first(module.stride),
                _first(module.padding),
            )
            size = (size + 2 * padding - kernel) // stride + 1
            if size < 1:
                return 0
    return size


def _first(value: int | tuple[int, ...] | str) -> int:
    return value[0] if isinstance(value, tuple) else int(value)


def check_input_size(x: torch.Tensor, minimum: int) -> None:
    """Raise a ValueError naming the minimum when `x` is smaller than the model takes."""
    if x.shape[-1] < minimum or x.shape[-2] < minimum:
        raise ValueError(
            f"input of {x.shape[-2]}x{x.shape[-1]} pixels is too small for this "
            f"model; the minimum image size is {minimum}x{minimum}"
        )


@torch.no_grad()
def kaiming_init(
    model: nn.Module, last: nn.Module, activation: str, params: Mapping[str, Any]
) -> None:
    """He init with the activation's gain, so the signal keeps its scale through every layer
    (PyTorch's default shrinks it at every ReLU layer); `last` (the output layer) gets the
    linear gain; biases 0."""
    nonlinearity = INIT_GAINS.get(activation, "relu")
    slope = params.get("negative_slope", 0.01)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            mode = "linear" if module is last else nonlinearity
            nn.init.kaiming_normal_(module.weight, a=slope, nonlinearity=mode)
            nn.init.zeros_(module.bias)
