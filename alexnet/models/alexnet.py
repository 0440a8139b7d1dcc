"""AlexNet with ablation knobs, in torchvision's module layout.

Module indices never move, whatever the knobs: features.0/3/6/8/10 are conv1..conv5,
features.2/5/12 the pools, avgpool, and classifier.1/4/6 are fc6..fc8, so a torchvision
state_dict loads with strict=True. A disabled dropout is an ``nn.Identity`` in its slot, and
LRN sits beside its activation (``features.1`` and ``features.4`` become ``Sequential(act, lrn)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from alexnet.models.activations import make_activation
from alexnet.models.errors import InvalidValue, check_choice, check_int

POOLINGS: dict[str, tuple[int, int]] = {
    "overlapping": (3, 2),  # the paper's 3x3 windows, stride 2
    "non_overlapping": (2, 2),
}
INITS: tuple[str, ...] = ("default", "paper", "kaiming")
# torch.nn.init gains by activation; the others are ReLU-like and take ReLU's gain.
INIT_GAINS = {"tanh": "tanh", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu"}
# The paper's LRN constants; nn.LocalResponseNorm divides alpha by size, as the authors' code did.
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0
# The layers with bias 1 in the paper's init.
PAPER_BIAS_ONE = ("features.3", "features.8", "features.10", "classifier.1", "classifier.4")
TORCHVISION_WIDTHS = (64, 192, 384, 256, 256)


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) with every ablation knob as a validated argument.

    Args:
        num_classes: outputs of the last layer (fc8).
        dropout: probability of the two classifier dropouts, in [0, 1); 0 removes them.
        activation: a name from the activation registry (relu, tanh, sigmoid, ...).
        activation_params: parameters of that activation, e.g. ``{"negative_slope": 0.2}``.
        lrn: local response normalization after the conv1 and conv2 activations.
        pooling: ``overlapping`` (3x3, stride 2) or ``non_overlapping`` (2x2, stride 2).
        widths: output channels of conv1..conv5.
        hidden: width of the hidden fully connected layers fc6 and fc7.
        groups: towers of conv2, conv4 and conv5 (2 for the paper's two-GPU split).
        init: ``default`` (PyTorch's), ``paper`` (N(0, 0.01), bias 1 in conv2/4/5 and fc6/7) or
            ``kaiming`` (He et al. 2015: normal, fan-in, the activation's gain; biases 0).
        conv1_padding: padding of conv1 (2 in torchvision, 0 in the paper with 227x227 input).
        in_channels: channels of the input images.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        dropout: float = 0.5,
        *,
        activation: str = "relu",
        activation_params: Mapping[str, Any] | None = None,
        lrn: bool = False,
        pooling: str = "overlapping",
        widths: Sequence[int] = TORCHVISION_WIDTHS,
        hidden: int = 4096,
        groups: int = 1,
        init: str = "default",
        conv1_padding: int = 2,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        _validate(num_classes, dropout, lrn, pooling, widths, hidden, groups, init, conv1_padding,
                  in_channels)
        self.num_classes = num_classes
        pool_kernel, pool_stride = POOLINGS[pooling]
        c1, c2, c3, c4, c5 = widths

        def act(with_lrn: bool = False) -> nn.Module:
            module = make_activation(activation, activation_params)
            if not with_lrn:
                return module
            return nn.Sequential(module, nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K))

        def pool() -> nn.Module:
            return nn.MaxPool2d(kernel_size=pool_kernel, stride=pool_stride)

        def drop() -> nn.Module:
            return nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=conv1_padding),
            act(lrn),
            pool(),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2, groups=groups),
            act(lrn),
            pool(),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            act(),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1, groups=groups),
            act(),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1, groups=groups),
            act(),
            pool(),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            drop(),
            nn.Linear(c5 * 6 * 6, hidden),
            act(),
            drop(),
            nn.Linear(hidden, hidden),
            act(),
            nn.Linear(hidden, num_classes),
        )
        self.min_input_size = _min_input_size(self.features)
        if init == "paper":
            _paper_init(self)
        elif init == "kaiming":
            _kaiming_init(self, activation, dict(activation_params or {}))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] < self.min_input_size or x.shape[-2] < self.min_input_size:
            raise ValueError(
                f"input of {x.shape[-2]}x{x.shape[-1]} pixels is too small for this model; "
                f"the minimum image size is {self.min_input_size}x{self.min_input_size}"
            )
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _validate(
    num_classes: int,
    dropout: float,
    lrn: bool,
    pooling: str,
    widths: tuple[int, ...],
    hidden: int,
    groups: int,
    init: str,
    conv1_padding: int,
    in_channels: int,
) -> None:
    for key, value in (("num_classes", num_classes), ("hidden", hidden), ("groups", groups),
                       ("in_channels", in_channels)):
        check_int(key, value, minimum=1)
    check_int("conv1_padding", conv1_padding, minimum=0)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise InvalidValue("dropout", dropout, "it must be a probability in [0, 1)")
    if not isinstance(lrn, bool):
        raise InvalidValue("lrn", lrn, "it must be true or false")
    check_choice("pooling", pooling, POOLINGS)
    check_choice("init", init, INITS)
    if len(widths) != 5 or any(isinstance(w, bool) or not isinstance(w, int) or w < 1
                               for w in widths):
        raise InvalidValue("widths", list(widths), "it must be 5 positive integers (conv1..conv5 "
                           f"channels, e.g. {list(TORCHVISION_WIDTHS)})")
    # Grouped convs (conv2, conv4, conv5) read conv1, conv3, conv4 and write conv2, conv4, conv5.
    if any(w % groups for w in widths):
        raise InvalidValue("groups", groups, f"every conv width must be a multiple of it, and "
                           f"widths={list(widths)}")


def _min_input_size(features: nn.Sequential, limit: int = 4096) -> int:
    """The smallest square input for which every conv and pool of `features` has an output."""
    for size in range(1, limit + 1):
        if _features_output_size(features, size) >= 1:
            return size
    raise ValueError(f"no input up to {limit} pixels fits this model")


def _features_output_size(features: nn.Sequential, size: int) -> int:
    for module in features:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            kernel, stride, padding = (_first(module.kernel_size), _first(module.stride),
                                       _first(module.padding))
            size = (size + 2 * padding - kernel) // stride + 1
            if size < 1:
                return 0
    return size


def _first(value: int | tuple[int, ...] | str) -> int:
    return value[0] if isinstance(value, tuple) else int(value)


@torch.no_grad()
def _paper_init(model: AlexNet) -> None:
    """The paper's init: weights ~ N(0, 0.01); bias 1 in conv2, conv4, conv5, fc6, fc7; else 0."""
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(module.weight, mean=0.0, std=0.01)
            nn.init.constant_(module.bias, 1.0 if name in PAPER_BIAS_ONE else 0.0)


@torch.no_grad()
def _kaiming_init(model: AlexNet, activation: str, params: dict) -> None:
    """He init with the activation's gain, so the signal keeps its scale through all 8 layers
    (PyTorch's default shrinks it at every ReLU layer); fc8 gets the linear gain."""
    nonlinearity = INIT_GAINS.get(activation, "relu")
    slope = params.get("negative_slope", 0.01)
    last = model.classifier[-1]
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            mode = "linear" if module is last else nonlinearity
            nn.init.kaiming_normal_(module.weight, a=slope, nonlinearity=mode)
            nn.init.zeros_(module.bias)
