"""What every interpretation method shares: captum on demand, eval mode, the target classes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import torch
from torch import nn

from alexnet.errors import InvalidValue
from alexnet.models.inspect import resolve_layer

CAPTUM_MISSING = (
    'this needs captum, which is not installed; install it with: pip install -e ".[interpret]"'
)


def require_captum() -> ModuleType:
    """The captum.attr module, or an ImportError that says how to install captum."""
    try:
        import captum.attr
    except ImportError as error:
        raise ImportError(CAPTUM_MISSING) from error
    return captum.attr


@contextmanager
def evaluating(model: nn.Module, inplace: bool = True) -> Iterator[nn.Module]:
    """`model` in eval mode (and, with `inplace` False, no in-place activations: captum's
    backward hooks fail on them); its previous mode and in-place flags come back after."""
    was_training = model.training
    flags = {m: m.inplace for m in model.modules() if isinstance(getattr(m, "inplace", None), bool)}
    model.eval()
    if not inplace:
        for module in flags:
            module.inplace = False
    try:
        yield model
    finally:
        for module, flag in flags.items():
            module.inplace = flag
        model.train(was_training)


def module_of(model: nn.Module, layer: str) -> nn.Module:
    """The module of `layer`: an alias (``conv5``) or a module name (``features.10``)."""
    return dict(model.named_modules())[resolve_layer(model, layer)]


def targets(
    model: nn.Module, images: torch.Tensor, target: int | torch.Tensor | None
) -> torch.Tensor:
    """One class per image: `target` (an int or one per image), else the predicted class."""
    if target is None:
        with torch.no_grad():
            return model(images).argmax(1)
    target = torch.as_tensor(target, device=images.device).long()
    if target.dim() == 0:
        target = target.expand(images.shape[0])
    if target.shape != (images.shape[0],):
        raise InvalidValue("target", target.tolist(), "give one class, or one per image")
    return target


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device
