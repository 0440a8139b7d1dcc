"""FourLayerNet: the small CIFAR network of the paper's Figure 1 (ReLU against tanh).

Krizhevsky et al. (2012) timed "a four-layer convolutional neural network" on CIFAR-10, with no
regularization of any kind: three 5x5 conv layers (32, 32, 64 channels), each followed by its
activation and a 3x3 stride-2 max-pool, and one linear layer (the layout of cuda-convnet's
CIFAR-10 example, without its response normalization).
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

FOUR_LAYER_INITS: tuple[str, ...] = ("default", "kaiming")
FOUR_LAYER_WIDTHS = (32, 32, 64)
FOUR_LAYER_LAYERS: dict[str, str] = {
    "conv1": "features.0",
    "act1": "features.1",
    "pool1": "features.2",
    "conv2": "features.3",
    "act2": "features.4",
    "pool2": "features.5",
    "conv3": "features.6",
    "act3": "features.7",
    "pool3": "features.8",
    "fc4": "classifier.1",
}


class FourLayerNet(nn.Module):
    """Three conv layers and a linear classifier (four weight layers), no regularization.

    Args:
        num_classes: outputs of the linear layer.
        dropout: before the linear layer (0: none, the paper's Figure 1 setting).
        activation, activation_params: any activation of the registry.
        lrn: local response normalization after the conv1 and conv2 activations (off).
        lrn_scale: LRN computed on units this many times larger (alpha * lrn_scale^2; 1: the
            constants as given, 57.6: the paper's 0-255 input scale, see blocks.py).
        pooling: ``overlapping`` (3x3 stride 2) or ``non_overlapping``.
        widths: output channels of conv1..conv3.
        init: ``default`` (PyTorch's) or ``kaiming``.
        in_channels: channels of the input images.
    """

    layer_aliases: ClassVar[dict[str, str]] = FOUR_LAYER_LAYERS

    def __init__(
        self,
        num_classes: int = 10,
        dropout: float = 0.0,
        *,
        activation: str = "relu",
        activation_params: Mapping[str, Any] | None = None,
        lrn: bool = False,
        lrn_scale: float = 1.0,
        pooling: str = "overlapping",
        widths: Sequence[int] = FOUR_LAYER_WIDTHS,
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
            1,
            init,
            FOUR_LAYER_INITS,
            in_channels,
            lrn_scale,
        )
        self.num_classes = num_classes
        c1, c2, c3 = widths
        params = dict(activation_params or {})
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, kernel_size=5, padding=2),
            activation_block(activation, params, lrn, lrn_scale=lrn_scale),
            max_pool(pooling),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2),
            activation_block(activation, params, lrn, lrn_scale=lrn_scale),
            max_pool(pooling),
            nn.Conv2d(c2, c3, kernel_size=5, padding=2),
            activation_block(activation, params),
            max_pool(pooling),
            nn.AdaptiveAvgPool2d((3, 3)),
        )
        self.classifier = nn.Sequential(dropout_slot(dropout), nn.Linear(c3 * 9, num_classes))
        self.min_input_size = min_input_size(self.features)
        if init == "kaiming":
            kaiming_init(self, self.classifier[-1], activation, params)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_size(x, self.min_input_size)
        return self.classifier(torch.flatten(self.features(x), 1))
