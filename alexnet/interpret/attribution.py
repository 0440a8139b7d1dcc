"""Attributions with captum: Grad-CAM, occlusion and guided backpropagation."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from alexnet.errors import InvalidValue, check_int
from alexnet.interpret.common import device_of, evaluating, module_of, require_captum, targets
from alexnet.models.inspect import conv_layers


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    target: int | torch.Tensor | None = None,
    layer: str | None = None,
) -> torch.Tensor:
    """Grad-CAM of `layer` (a conv, by alias or module name; default: the last conv, conv5 in
    AlexNet) for `target` (default: the predicted class): ReLU'd, upsampled (bilinear) to the
    images' size and scaled to [0, 1] per image. Returns (B, H, W)."""
    attr = require_captum()
    module = cam_layer(model, layer)
    images = images.to(device_of(model))
    with evaluating(model, inplace=False):
        cam = attr.LayerGradCam(model, module).attribute(
            images, target=targets(model, images, target), relu_attributions=True
        )
    cam = F.interpolate(cam.detach(), size=images.shape[-2:], mode="bilinear", align_corners=False)[
        :, 0
    ].clamp_min(0)
    return _unit_range(cam)


def cam_layer(model: nn.Module, layer: str | None = None) -> nn.Conv2d:
    """The conv module Grad-CAM reads: `layer`, or the model's last conv."""
    convs = conv_layers(model)
    module = module_of(model, layer or convs[-1])
    if not isinstance(module, nn.Conv2d):
        raise InvalidValue("layer", layer, f"Grad-CAM needs a conv layer: {', '.join(convs)}")
    return module


def occlusion(
    model: nn.Module,
    images: torch.Tensor,
    target: int | torch.Tensor | None = None,
    window: int = 16,
    stride: int = 8,
    baseline: float = 0.0,
    per_eval: int = 16,
) -> torch.Tensor:
    """Occlusion: the drop of the `target` logit when a `window`-pixel square (moved by `stride`)
    is set to `baseline`, summed over the channels. Returns (B, H, W); positive: evidence for."""
    check_int("window", window)
    check_int("stride", stride)
    attr = require_captum()
    images = images.to(device_of(model))
    channels = images.shape[1]
    with evaluating(model):
        maps = attr.Occlusion(model).attribute(
            images,
            sliding_window_shapes=(channels, window, window),
            strides=(channels, stride, stride),
            target=targets(model, images, target),
            baselines=baseline,
            perturbations_per_eval=per_eval,
        )
    return maps.detach().sum(1)


def guided_backprop(
    model: nn.Module, images: torch.Tensor, target: int | torch.Tensor | None = None
) -> torch.Tensor:
    """Guided backpropagation (Springenberg et al. 2015) of the `target` logit to the input:
    only positive gradients pass back through each ReLU. Returns (B, C, H, W)."""
    attr = require_captum()
    images = images.to(device_of(model)).detach().clone().requires_grad_(True)
    with evaluating(model, inplace=False), warnings.catch_warnings():  # captum's ReLU hooks
        warnings.filterwarnings("ignore", "Setting backward hooks")  # fail on in-place ReLUs
        grads = attr.GuidedBackprop(model).attribute(images, target=targets(model, images, target))
    return grads.detach()


def _unit_range(maps: torch.Tensor) -> torch.Tensor:
    """Scale each map of (B, H, W) to [0, 1]; an all-zero map stays zero."""
    flat = maps.flatten(1)
    low, high = flat.min(1).values.view(-1, 1, 1), flat.max(1).values.view(-1, 1, 1)
    return (maps - low) / (high - low).clamp_min(1e-12)
