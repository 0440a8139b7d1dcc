"""The one registry of activation functions: name -> module factory with its parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from alexnet.errors import InvalidValue, check_choice


@dataclass(frozen=True)
class ActivationSpec:
    """How to build one activation: its module class, default parameters, in-place support."""

    module: Callable[..., nn.Module]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    inplace: bool = False


ACTIVATIONS: dict[str, ActivationSpec] = {
    "relu": ActivationSpec(nn.ReLU, inplace=True),
    "tanh": ActivationSpec(nn.Tanh),
    "sigmoid": ActivationSpec(nn.Sigmoid),
    "relu6": ActivationSpec(nn.ReLU6, inplace=True),
    "leaky_relu": ActivationSpec(nn.LeakyReLU, {"negative_slope": 0.01}, inplace=True),
    "elu": ActivationSpec(nn.ELU, {"alpha": 1.0}, inplace=True),
    "gelu": ActivationSpec(nn.GELU, {"approximate": "none"}),
    "silu": ActivationSpec(nn.SiLU, inplace=True),
}


def activation_names() -> list[str]:
    """The registered activation names, in registry order."""
    return list(ACTIVATIONS)


def activation_defaults(name: str) -> dict[str, Any]:
    """The parameters of activation `name` with their default values."""
    return dict(_spec(name).defaults)


def make_activation(name: str, params: Mapping[str, Any] | None = None) -> nn.Module:
    """Build activation `name`, in place where the module supports it.

    `params` overrides the registered defaults (e.g. ``{"negative_slope": 0.2}`` for leaky_relu);
    an unknown parameter raises a ValueError listing the valid ones.
    """
    spec = _spec(name)
    params = dict(params or {})
    unknown = sorted(set(params) - set(spec.defaults))
    if unknown:
        valid = ", ".join(spec.defaults) or "none"
        raise InvalidValue(
            "activation_params",
            params,
            f"{name} has no parameter {', '.join(unknown)}; its parameters: {valid}",
        )
    for key, value in params.items():
        default = spec.defaults[key]
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InvalidValue(
                "activation_params", params, f"{name}'s parameter {key} must be a number"
            )
        if isinstance(default, str) and not isinstance(value, str):
            raise InvalidValue(
                "activation_params", params, f"{name}'s parameter {key} must be a string"
            )
    kwargs = {**spec.defaults, **params}
    if spec.inplace:
        kwargs["inplace"] = True
    return spec.module(**kwargs)


def _spec(name: str) -> ActivationSpec:
    check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]
