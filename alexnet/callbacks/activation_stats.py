"""Per-layer activation statistics, weight and activation histograms, and gradient norms."""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.utilities import grad_norm
from torch.utils.tensorboard import SummaryWriter

from alexnet.callbacks.drawing import EpochDrawingCallback, probe_images, tensorboard_writer
from alexnet.models.inspect import (
    AlexNetFeatureExtractor,
    activation_layers,
    resolve_layer,
    weighted_layers,
)

NORM_KEY = "grad_2.0_norm"  # lightning.pytorch.utilities.grad_norm's keys for the 2-norm
HISTOGRAM_VALUES = 1 << 16  # a histogram of more values looks the same and costs seconds


class ActivationStatistics(EpochDrawingCallback):
    """On probe images, per activation layer: the fraction of exact zeros (ReLU sparsity), the
    fraction of dead units (zero for every probe image), mean and std as scalars, and histograms
    of activations and weights. Every `grad_every_n_steps` steps: per-layer gradient norms, where
    sigmoid and tanh show their vanishing gradients."""

    def __init__(
        self, every_n_epochs: int = 1, num_images: int = 32, grad_every_n_steps: int = 50
    ) -> None:
        super().__init__(every_n_epochs)
        self.num_images, self.grad_every_n_steps = num_images, grad_every_n_steps

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        images = probe_images(trainer, self.num_images).to(pl_module.device)
        layers = activation_layers(pl_module.model)
        with AlexNetFeatureExtractor(pl_module.model, layers) as extract:
            features = extract(images)
        for layer, values in features.items():
            values = values.float()
            units = values.transpose(0, 1).flatten(1)  # (channels or units, everything else)
            writer.add_scalar(
                f"activations/{layer}/zero_fraction", (values == 0).float().mean().item(), step
            )
            writer.add_scalar(
                f"activations/{layer}/dead_fraction",
                (units == 0).all(1).float().mean().item(),
                step,
            )
            writer.add_scalar(f"activations/{layer}/mean", values.mean().item(), step)
            writer.add_scalar(f"activations/{layer}/std", values.std().item(), step)
            writer.add_histogram(f"activations/{layer}", _sample(values), step)
        modules = _weighted_modules(pl_module)
        for layer, module in modules.items():
            writer.add_histogram(f"weights/{layer}", _sample(module.weight.detach()), step)

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        # Here, not after each backward: the gradients the optimizer applies, accumulated over
        # micro-batches and unscaled by fp16's GradScaler.
        step = trainer.global_step
        if step % self.grad_every_n_steps or not trainer.is_global_zero:
            return
        writer = tensorboard_writer(trainer)
        if writer is None:
            return
        norms = grad_norm(pl_module.model, norm_type=2)  # Lightning's: each parameter, total
        weights = {
            f"{NORM_KEY}/{resolve_layer(pl_module.model, layer)}.weight": layer
            for layer in weighted_layers(pl_module.model)
        }
        layers = [(layer, norms[key]) for key, layer in weights.items() if key in norms]
        if not layers:
            return
        values = torch.stack([norm.float() for _, norm in layers]).tolist()  # one device sync
        for (layer, _), value in zip(layers, values):
            writer.add_scalar(f"gradients/{layer}", value, step)
        writer.add_scalar("gradients/total", float(norms[f"{NORM_KEY}_total"]), step)


def _sample(values: torch.Tensor) -> torch.Tensor:
    """At most HISTOGRAM_VALUES of `values`, evenly strided (the same elements every time)."""
    flat = values.detach().flatten()
    stride = max(1, flat.numel() // HISTOGRAM_VALUES)
    return flat[::stride].float().cpu()


def _weighted_modules(pl_module: L.LightningModule) -> dict[str, torch.nn.Module]:
    modules = dict(pl_module.model.named_modules())
    return {
        layer: modules[resolve_layer(pl_module.model, layer)]
        for layer in weighted_layers(pl_module.model)
    }
