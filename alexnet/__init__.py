"""AlexNet Lab: train, dissect and ablate AlexNet."""

from importlib import import_module
from typing import Any

from alexnet.models import (
    AlexNet,
    AlexNetFeatureExtractor,
    MiniAlexNet,
    ModelSummary,
    activation_names,
    create_model,
    make_activation,
    preset_names,
    summarize,
)

__version__ = "0.1.0"

# Names whose modules import Lightning load on first use, so `import alexnet` stays light.
_LAZY = {
    "AlexNetDataModule": "alexnet.data",
    "SyntheticImageNet": "alexnet.data",
    "create_synthetic_dataset": "alexnet.data",
    "AlexNetModule": "alexnet.training.module",
    "AlexNetVisualizer": "alexnet.viz",
}

__all__ = [
    "AlexNet",
    "AlexNetDataModule",
    "AlexNetFeatureExtractor",
    "AlexNetModule",
    "AlexNetVisualizer",
    "MiniAlexNet",
    "ModelSummary",
    "SyntheticImageNet",
    "activation_names",
    "create_model",
    "create_synthetic_dataset",
    "make_activation",
    "preset_names",
    "summarize",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alexnet' has no attribute {name!r}")
