"""Look inside a model: layer names and aliases, and a hook-based feature extractor."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from alexnet.models.errors import InvalidValue

# Short names for AlexNet's layers (torchvision indices); act1..act7 are the activations.
LAYER_ALIASES: dict[str, str] = {
    "conv1": "features.0", "act1": "features.1", "pool1": "features.2",
    "conv2": "features.3", "act2": "features.4", "pool2": "features.5",
    "conv3": "features.6", "act3": "features.7",
    "conv4": "features.8", "act4": "features.9",
    "conv5": "features.10", "act5": "features.11", "pool5": "features.12",
    "fc6": "classifier.1", "act6": "classifier.2",
    "fc7": "classifier.4", "act7": "classifier.5",
    "fc8": "classifier.6",
}
CONV_LAYERS: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "conv5")


def layer_names(model: nn.Module) -> list[str]:
    """Every name a layer of `model` can be asked for by: aliases, then module names."""
    modules = dict(model.named_modules())
    aliases = [alias for alias, name in LAYER_ALIASES.items() if name in modules]
    return aliases + [name for name in modules if name]


def resolve_layer(model: nn.Module, layer: str) -> str:
    """The module name of `layer` (an alias such as ``conv1`` or a name such as ``features.0``)."""
    name = LAYER_ALIASES.get(layer, layer)
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
