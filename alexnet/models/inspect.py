"""Look inside a model: layer names and aliases, and a hook-based feature extractor."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from alexnet.errors import InvalidValue
from alexnet.models.alexnet import ALEXNET_LAYERS


def layer_aliases(model: nn.Module) -> dict[str, str]:
    """The model's short layer names (``conv1``, ``act1``, ``fc6``, ...) -> module names; a model
    without its own (e.g. torchvision's AlexNet) gets AlexNet's, which share its layout."""
    aliases = getattr(model, "layer_aliases", ALEXNET_LAYERS)
    modules = dict(model.named_modules())
    return {alias: name for alias, name in aliases.items() if name in modules}


def conv_layers(model: nn.Module) -> list[str]:
    """The aliases of the model's conv layers, in order (conv1 .. conv5 for AlexNet)."""
    return _with_prefix(model, "conv")


def activation_layers(model: nn.Module) -> list[str]:
    """The aliases of the model's activations, in order (act1 .. act7 for AlexNet)."""
    return _with_prefix(model, "act")


def weighted_layers(model: nn.Module) -> list[str]:
    """The aliases of the layers with weights: the convs, then the fully connected layers."""
    return conv_layers(model) + _with_prefix(model, "fc")


def _with_prefix(model: nn.Module, prefix: str) -> list[str]:
    return [
        alias
        for alias in layer_aliases(model)
        if alias.startswith(prefix) and alias[len(prefix) :].isdigit()
    ]


def layer_names(model: nn.Module) -> list[str]:
    """Every name a layer of `model` can be asked for by: aliases, then module names."""
    modules = dict(model.named_modules())
    return list(layer_aliases(model)) + [name for name in modules if name]


def resolve_layer(model: nn.Module, layer: str) -> str:
    """The module name of `layer` (an alias such as ``conv1`` or a name such as ``features.0``)."""
    name = layer_aliases(model).get(layer, layer)
    modules = dict(model.named_modules())
    if not name or name not in modules:
        raise InvalidValue("layer", layer, f"valid names: {', '.join(layer_names(model))}")
    return name


class AlexNetFeatureExtractor:
    """Returns the outputs of chosen layers for a batch, keyed by the names asked for.

    Outputs are copied as the layer produces them, before any in-place activation that follows
    can overwrite them; the model's own outputs are unchanged. Use it as a context manager (or
    call `close`) so that no hook stays on the model::

        with AlexNetFeatureExtractor(model, ["conv1", "features.3", "fc7"]) as extract:
            features = extract(images)  # {"conv1": tensor, "features.3": tensor, "fc7": tensor}
    """

    def __init__(self, model: nn.Module, layers: Iterable[str], detach: bool = True) -> None:
        self.model = model
        self.layers = list(layers)
        if not self.layers:
            raise InvalidValue("layers", [], f"choose from: {', '.join(layer_names(model))}")
        self.detach = detach
        self._features: dict[str, torch.Tensor] = {}
        self._handles: list[RemovableHandle] = []
        modules = dict(model.named_modules())
        targets = [(layer, modules[resolve_layer(model, layer)]) for layer in self.layers]
        for layer, module in targets:
            self._handles.append(module.register_forward_hook(self._hook(layer)))

    def _hook(self, key: str):  # noqa: ANN202 - a torch forward hook
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            output = output.detach() if self.detach else output
            self._features[key] = output.clone()

        return hook

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if not self._handles:
            raise RuntimeError("this AlexNetFeatureExtractor is closed; create a new one")
        self._features = {}
        self.model(x)
        features, self._features = self._features, {}
        return {layer: features[layer] for layer in self.layers}

    def close(self) -> None:
        """Remove every hook this extractor put on the model."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> AlexNetFeatureExtractor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def conv_weight(model: nn.Module, layer: str) -> tuple[torch.Tensor, int]:
    """The weight (out, in/groups, kH, kW) of conv `layer` and the groups of the conv it feeds."""
    name = resolve_layer(model, layer)
    module = dict(model.named_modules())[name]
    if not isinstance(module, nn.Conv2d):
        convs = [
            n
            for n in layer_names(model)
            if isinstance(dict(model.named_modules()).get(resolve_layer(model, n)), nn.Conv2d)
        ]
        raise InvalidValue(
            "layer", layer, f"it is not a conv layer; conv layers: {', '.join(convs)}"
        )
    consumers = [
        m
        for m in model.modules()
        if isinstance(m, nn.Conv2d) and m.in_channels == module.out_channels and m is not module
    ]
    towers = consumers[0].groups if consumers else module.groups
    return module.weight.detach().float().cpu(), towers
