"""Named AlexNet presets and `create_model`, the one way configs build a model."""

from __future__ import annotations

import inspect
from typing import Any

from alexnet.models.alexnet import AlexNet
from alexnet.models.errors import check_choice

PRESETS: dict[str, dict[str, Any]] = {
    # torchvision's layout: 61,100,840 parameters at 1000 classes.
    "alexnet": {},
    # The 2012 paper: two towers, LRN, its init, 227x227 input -> 55x55x96 after conv1.
    "paper2012": {
        "widths": (96, 256, 384, 384, 256),
        "groups": 2,
        "lrn": True,
        "init": "paper",
        "conv1_padding": 0,
    },
    # The seed notebook's MiniAlexNet: 32-64-128 convs, 512 hidden units.
    "mini": {"widths": (32, 64, 128, 128, 128), "hidden": 512},
}


def preset_names() -> list[str]:
    """The preset names `create_model` accepts."""
    return list(PRESETS)


def knob_names() -> list[str]:
    """The AlexNet constructor arguments a preset or an override may set."""
    return [name for name in inspect.signature(AlexNet).parameters if name not in ("self", "num_classes")]


def preset_knobs(name: str, **overrides: Any) -> dict[str, Any]:
    """The knob values `create_model(name, **overrides)` builds with (defaults filled in)."""
    check_choice("name", name, PRESETS)
    defaults = {key: p.default for key, p in inspect.signature(AlexNet).parameters.items()
                if key not in ("self", "num_classes")}
    return {**defaults, **PRESETS[name], **overrides}


def create_model(name: str = "alexnet", num_classes: int = 1000, **overrides: Any) -> AlexNet:
    """Build preset `name` with `num_classes` outputs; `overrides` replace any of its knobs.

    Example: ``create_model("paper2012", num_classes=10, activation="tanh", dropout=0.0)``.
    """
    check_choice("name", name, PRESETS)
    for knob in overrides:
        check_choice("knob", knob, knob_names())
    return AlexNet(num_classes=num_classes, **{**PRESETS[name], **overrides})
