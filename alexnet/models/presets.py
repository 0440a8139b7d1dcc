"""Named presets and `create_model`, the one way configs build a model."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from alexnet.errors import InvalidValue, check_choice
from alexnet.models.alexnet import AlexNet
from alexnet.models.four_layer import FourLayerNet
from alexnet.models.mini import MiniAlexNet


@dataclass(frozen=True)
class Preset:
    """A network class and the knob values that make the preset."""

    network: type[nn.Module]
    knobs: dict[str, Any] = field(default_factory=dict)
    about: str = ""


PRESETS: dict[str, Preset] = {
    "alexnet": Preset(AlexNet, {}, "torchvision's layout: 61,100,840 parameters at 1000 classes"),
    "paper2012": Preset(
        AlexNet,
        {
            "widths": (96, 256, 384, 384, 256),
            "groups": 2,
            "lrn": True,
            "init": "paper",
            "conv1_padding": 0,
            "dropout_placement": "paper",
        },
        "the 2012 paper: two towers, LRN, its init and dropout placement, 227x227 input",
    ),
    "mini": Preset(MiniAlexNet, {}, "the seed notebook's MiniAlexNet: 3 convs, 2 linear layers"),
    "four_layer": Preset(
        FourLayerNet,
        {},
        "the paper's Figure 1 CIFAR net: 3 convs, 1 linear layer, no regularization",
    ),
}


def preset_names() -> list[str]:
    """The preset names `create_model` accepts."""
    return list(PRESETS)


def knob_names(name: str = "alexnet") -> list[str]:
    """The constructor arguments a preset's network takes, besides ``num_classes``."""
    check_choice("name", name, PRESETS)
    parameters = inspect.signature(PRESETS[name].network).parameters
    return [key for key in parameters if key not in ("self", "num_classes")]


def preset_knobs(name: str, **overrides: Any) -> dict[str, Any]:
    """The knob values `create_model(name, **overrides)` builds with (defaults filled in)."""
    check_choice("name", name, PRESETS)
    parameters = inspect.signature(PRESETS[name].network).parameters
    defaults = {
        key: p.default for key, p in parameters.items() if key not in ("self", "num_classes")
    }
    return {**defaults, **PRESETS[name].knobs, **overrides}


def create_model(name: str = "alexnet", num_classes: int = 1000, **overrides: Any) -> nn.Module:
    """Build preset `name` with `num_classes` outputs; `overrides` replace any of its knobs.

    Example: ``create_model("paper2012", num_classes=10, activation="tanh", dropout=0.0)``.
    """
    check_choice("name", name, PRESETS)
    knobs = knob_names(name)
    for knob in overrides:
        if knob not in knobs:
            network = PRESETS[name].network.__name__
            raise InvalidValue(
                "knob",
                knob,
                f"the {name} preset ({network}) has no such knob; its knobs: {', '.join(knobs)}",
            )
    preset = PRESETS[name]
    return preset.network(num_classes=num_classes, **{**preset.knobs, **overrides})
