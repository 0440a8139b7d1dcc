"""AlexNet Lab: train, dissect and ablate AlexNet."""

from alexnet.models import (
    AlexNet,
    AlexNetFeatureExtractor,
    ModelSummary,
    activation_names,
    create_model,
    preset_names,
    summarize,
)

__version__ = "0.1.0"

__all__ = [
    "AlexNet", "AlexNetFeatureExtractor", "ModelSummary", "activation_names", "create_model",
    "preset_names", "summarize",
]
