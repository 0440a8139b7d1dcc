"""The AlexNet model family: nn.Modules only (no Lightning, no Hydra)."""

from alexnet.models.activations import ACTIVATIONS, activation_names, make_activation
from alexnet.models.alexnet import INITS, POOLINGS, AlexNet
from alexnet.models.inspect import LAYER_ALIASES, AlexNetFeatureExtractor, layer_names, resolve_layer
from alexnet.models.presets import PRESETS, create_model, knob_names, preset_names
from alexnet.models.summary import LayerRow, ModelSummary, summarize

__all__ = [
    "ACTIVATIONS", "INITS", "LAYER_ALIASES", "POOLINGS", "PRESETS", "AlexNet",
    "AlexNetFeatureExtractor", "LayerRow", "ModelSummary", "activation_names", "create_model",
    "knob_names", "layer_names", "make_activation", "preset_names", "resolve_layer", "summarize",
]
