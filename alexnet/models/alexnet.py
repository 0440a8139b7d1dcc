"""AlexNet with ablation knobs, in torchvision's module layout.

Module indices never move, whatever the knobs: features.0/3/6/8/10 are conv1..conv5,
features.2/5/12 the pools, avgpool, and classifier.1/4/6 are fc6..fc8, so a torchvision
state_dict loads with strict=True. A disabled dropout is an ``nn.Identity`` in its slot; LRN
(and, in the paper's placement, fc7's dropout) sits beside its activation in one slot
(``features.1`` becomes ``Sequential(act, lrn)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from alexnet.errors import InvalidValue, check_choice, check_int
from alexnet.models.blocks import (
    activation_block,
    check_input_size,
    check_knobs,
    dropout_slot,
    kaiming_init,
    max_pool,
    min_input_size,
)

INITS: tuple[str, ...] = ("default", "paper", "kaiming")
# Where the two dropouts sit: torchvision drops the inputs of fc6 and fc7; the paper (and its
# cuda-convnet layer files) drops the outputs of fc6 and fc7.
DROPOUT_PLACEMENTS: tuple[str, ...] = ("torchvision", "paper")
# The layers with bias 1 in the paper's init.
PAPER_BIAS_ONE = ("features.3", "features.8", "features.10", "classifier.1", "classifier.4")
TORCHVISION_WIDTHS = (64, 192, 384, 256, 256)
# Short names for the layers (torchvision indices); act1..act7 are the activations.
ALEXNET_LAYERS: dict[str, str] = {
    "conv1": "features.0",
    "act1": "features.1",
    "pool1": "features.2",
    "conv2": "features.3",
    "act2": "features.4",
    "pool2": "features.5",
    "conv3": "features.6",
    "act3": "features.7",
    "conv4": "features.8",
    "act4": "features.9",
    "conv5": "features.10",
    "act5": "features.11",
    "pool5": "features.12",
    "fc6": "classifier.1",
    "act6": "classifier.2",
    "fc7": "classifier.4",
    "act7": "classifier.5",
    "fc8": "classifier.6",
}


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) with every ablation knob as a validated argument.

    Args:
        num_classes: outputs of the last layer (fc8).
        dropout: probability of the two classifier dropouts, in [0, 1); 0 removes them.
        activation: a name from the activation registry (relu, tanh, sigmoid, ...).
        activation_params: parameters of that activation, e.g. ``{"negative_slope": 0.2}``.
        lrn: local response normalization after the conv1 and conv2 activations.
        lrn_scale: LRN computed on units this many times larger (alpha * lrn_scale^2; 1: the
            constants as given, 57.6: the paper's 0-255 input scale, see blocks.py).
        pooling: ``overlapping`` (3x3, stride 2) or ``non_overlapping`` (2x2, stride 2).
        widths: output channels of conv1..conv5.
        hidden: width of the hidden fully connected layers fc6 and fc7.
        groups: towers of conv2, conv4 and conv5 (2 for the paper's two-GPU split).
        init: ``default`` (PyTorch's), ``paper`` (N(0, 0.01), bias 1 in conv2/4/5 and fc6/7) or
            ``kaiming`` (He et al. 2015: normal, fan-in, the activation's gain; biases 0).
        conv1_padding: padding of conv1 (2 in torchvision, 0 in the paper with 227x227 input).
        dropout_placement: ``torchvision`` (dropout on the inputs of fc6 and fc7) or ``paper``
            (on the outputs of fc6 and fc7, as the paper and its reference code).
        in_channels: channels of the input images.
    """

    layer_aliases: ClassVar[dict[str, str]] = ALEXNET_LAYERS

    def __init__(
        self,
        num_classes: int = 1000,
        dropout: float = 0.5,
        *,
        activation: str = "relu",
        activation_params: Mapping[str, Any] | None = None,
        lrn: bool = False,
        lrn_scale: float = 1.0,
        pooling: str = "overlapping",
        widths: Sequence[int] = TORCHVISION_WIDTHS,
        hidden: int = 4096,
        groups: int = 1,
        init: str = "default",
        conv1_padding: int = 2,
        dropout_placement: str = "torchvision",
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        check_knobs(
            num_classes,
            dropout,
            lrn,
            pooling,
            widths,
            5,
            hidden,
            init,
            INITS,
            in_channels,
            lrn_scale,
        )
        _check_alexnet_knobs(widths, groups, conv1_padding, dropout_placement)
        self.num_classes = num_classes
        c1, c2, c3, c4, c5 = widths
        params = dict(activation_params or {})
        paper_dropout = dropout if dropout_placement == "paper" else 0.0
        torchvision_dropout = dropout if dropout_placement == "torchvision" else 0.0

        def act(with_lrn: bool = False, then_dropout: float = 0.0) -> nn.Module:
            return activation_block(activation, params, with_lrn, then_dropout, lrn_scale)

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=11, stride=4, padding=conv1_padding),
            act(lrn),
            max_pool(pooling),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2, groups=groups),
            act(lrn),
            max_pool(pooling),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            act(),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1, groups=groups),
            act(),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1, groups=groups),
            act(),
            max_pool(pooling),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            dropout_slot(torchvision_dropout),  # torchvision: fc6's input
            nn.Linear(c5 * 6 * 6, hidden),
            act(),
            dropout_slot(dropout),  # both: fc6's output (fc7's input)
            nn.Linear(hidden, hidden),
            act(then_dropout=paper_dropout),  # paper: fc7's output
            nn.Linear(hidden, num_classes),
        )
        self.min_input_size = min_input_size(self.features)
        if init == "paper":
            _paper_init(self)
        elif init == "kaiming":
            kaiming_init(self, self.classifier[-1], activation, params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.min_input_size)
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def _check_alexnet_knobs(
    widths: tuple[int, ...], groups: int, conv1_padding: int, dropout_placement: str
) -> None:
    check_int("groups", groups, minimum=1)
    check_int("conv1_padding", conv1_padding, minimum=0)
    check_choice("dropout_placement", dropout_placement, DROPOUT_PLACEMENTS)
    # Grouped convs (conv2, conv4, conv5) read conv1, conv3, conv4 and write conv2, conv4, conv5.
    if any(w % groups for w in widths):
        raise InvalidValue(
            "groups",
            groups,
            f"every conv width must be a multiple of it, and widths={list(widths)}",
        )


@torch.no_grad()
def _paper_init(model: AlexNet) -> None:
    """The paper's init: weights ~ N(0, 0.01); bias 1 in conv2, conv4, conv5, fc6, fc7; else 0."""
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(module.weight, mean=0.0, std=0.01)
            nn.init.constant_(module.bias, 1.0 if name in PAPER_BIAS_ONE else 0.0)
