"""MiniAlexNet: the seed notebook's small AlexNet, three convs and two fully connected layers.

Its layout is the notebook's, so the notebook's state_dicts load: features.0/3/6 are conv1..conv3,
features.2/5 the max-pools, features.8 the adaptive average pool to 6x6, classifier.1 the hidden
layer (fc4: the network's fourth weight layer) and classifier.4 the output layer (fc5).
2,494,794 parameters with 10 classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from alexnet.models.blocks import (
    activation_block,
    check_input_size,
    check_knobs,
    dropout_slot,
    kaiming_init,
    max_pool,
    min_input_size,
)

MINI_INITS: tuple[str, ...] = ("default", "kaiming")
MINI_WIDTHS = (32, 64, 128)
MINI_LAYERS: dict[str, str] = {
    "conv1": "features.0",
    "act1": "features.1",
    "pool1": "features.2",
    "conv2": "features.3",
    "act2": "features.4",
    "pool2": "features.5",
    "conv3": "features.6",
    "act3": "features.7",
    "avgpool": "features.8",
    "fc4": "classifier.1",
    "act4": "classifier.2",
    "fc5": "classifier.4",
}


class MiniAlexNet(nn.Module):
    """The notebook's MiniAlexNet with the knobs that make sense for it.

    conv 3->32 7x7 stride 2 padding 2, activation, max-pool; conv 32->64 5x5 padding 2,
    activation, max-pool; conv 64->128 3x3 padding 1, activation; adaptive average pool to 6x6;
    dropout, linear 4608->512, activation, dropout, linear 512->classes.

    Args:
        num_classes: outputs of the last layer.
        dropout: probability of the two dropouts (before each linear layer), in [0, 1).
        activation, activation_params: as for AlexNet (every activation of the registry).
        lrn: local response normalization after the conv1 and conv2 activations (off: the
            notebook's).
        lrn_scale: LRN computed on units this many times larger (alpha * lrn_scale^2; 1: the
            constants as given, 57.6: the paper's 0-255 input scale, see blocks.py).
        pooling: ``overlapping`` (3x3 stride 2, the notebook's) or ``non_overlapping``.
        widths: output channels of conv1..conv3.
        hidden: units of the hidden linear layer.
        init: ``default`` (PyTorch's) or ``kaiming``.
        in_channels: channels of the input images.
    """

    layer_aliases: ClassVar[dict[str, str]] = MINI_LAYERS

    def __init__(
        self,
        num_classes: int = 10,
        dropout: float = 0.5,
        *,
        activation: str = "relu",
        activation_params: Mapping[str, Any] | None = None,
        lrn: bool = False,
        lrn_scale: float = 1.0,
        pooling: str = "overlapping",
        widths: Sequence[int] = MINI_WIDTHS,
        hidden: int = 512,
        init: str = "default",
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
            3,
            hidden,
            init,
            MINI_INITS,
            in_channels,
            lrn_scale,
        )
        self.num_classes = num_classes
        c1, c2, c3 = widths
        params = dict(activation_params or {})
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=7, stride=2, padding=2),
            activation_block(activation, params, lrn, lrn_scale=lrn_scale),
            max_pool(pooling),
            nn.Conv2d(c1, c2, kernel_size=5, stride=1, padding=2),
            activation_block(activation, params, lrn, lrn_scale=lrn_scale),
            max_pool(pooling),
            nn.Conv2d(c2, c3, kernel_size=3, stride=1, padding=1),
            activation_block(activation, params),
            nn.AdaptiveAvgPool2d((6, 6)),
        )
        self.classifier = nn.Sequential(
            dropout_slot(dropout),
            nn.Linear(c3 * 6 * 6, hidden),
            activation_block(activation, params),
            dropout_slot(dropout),
            nn.Linear(hidden, num_classes),
        )
        self.min_input_size = min_input_size(self.features)
        if init == "kaiming":
            kaiming_init(self, self.classifier[-1], activation, params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.min_input_size)
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)
