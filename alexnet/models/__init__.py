"""The AlexNet model family: nn.Modules only (no Lightning, no Hydra)."""

from alexnet.models.activations import ACTIVATIONS, activation_names, make_activation
from alexnet.models.alexnet import ALEXNET_LAYERS, DROPOUT_PLACEMENTS, INITS, AlexNet
from alexnet.models.blocks import POOLINGS
from alexnet.models.inspect import (
    AlexNetFeatureExtractor,
    activation_layers,
    conv_layers,
    layer_aliases,
    layer_names,
    resolve_layer,
    weighted_layers,
)
from alexnet.models.mini import MINI_LAYERS, MiniAlexNet
from alexnet.models.presets import PRESETS, create_model, knob_names, preset_names
from alexnet.models.summary import LayerRow, ModelSummary, summarize
from alexnet.models.weights import (
    FREEZES,
    WeightsInfo,
    freeze,
    load_weights,
    trainable_parameters,
)

__all__ = [
    "ACTIVATIONS",
    "ALEXNET_LAYERS",
    "DROPOUT_PLACEMENTS",
    "FREEZES",
    "INITS",
    "MINI_LAYERS",
    "POOLINGS",
    "PRESETS",
    "AlexNet",
    "AlexNetFeatureExtractor",
    "LayerRow",
    "MiniAlexNet",
    "ModelSummary",
    "WeightsInfo",
    "activation_layers",
    "activation_names",
    "conv_layers",
    "create_model",
    "freeze",
    "knob_names",
    "layer_aliases",
    "layer_names",
    "load_weights",
    "make_activation",
    "preset_names",
    "resolve_layer",
    "summarize",
    "trainable_parameters",
    "weighted_layers",
]
