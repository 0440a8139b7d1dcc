"""Training error measured as the paper means it: the current weights, in eval mode, on a fixed
subset of the training set through the validation pipeline (no augmentation), every N steps;
beside it, the fraction of dead units in each activation layer, and what LRN layers do beyond a
constant rescale."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from alexnet.data.samples import unaugmented_train_samples
from alexnet.models.inspect import activation_layers, resolve_layer


def dead_fractions(
    model: nn.Module, images: torch.Tensor, batch_size: int = 250
) -> tuple[dict[str, float], torch.Tensor]:
    """Per activation layer, the fraction of its units (channels of a conv, features of a fully
    connected layer) whose output is the same for every image (at each position): a ReLU that is
    zero everywhere, a tanh saturated at one sign. Such a unit passes no information about the
    input, whatever its value. Also returns the model's logits. Runs in eval mode, without
    gradients."""
    modules = dict(model.named_modules())
    low: dict[str, torch.Tensor] = {}
    high: dict[str, torch.Tensor] = {}

    def watch(layer: str):  # noqa: ANN202 - a torch forward hook
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            values = (
                output.detach().float().flatten(2)
                if output.dim() > 2
                else output.detach().float()[..., None]
            )  # (images, units, positions)
            least, most = values.amin(0), values.amax(0)
            low[layer] = torch.minimum(low[layer], least) if layer in low else least
            high[layer] = torch.maximum(high[layer], most) if layer in high else most

        return hook

    handles = [
        modules[resolve_layer(model, layer)].register_forward_hook(watch(layer))
        for layer in activation_layers(model)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = torch.cat([model(batch) for batch in images.split(batch_size)])
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    # The same over images at each of its positions (padding may still vary it over positions),
    # up to float32 rounding of the unit's own value (tanh(20) == 1.0 exactly).
    dead = {
        layer: (high[layer] - low[layer] <= 1e-6 * high[layer].abs().clamp(min=1.0)).all(1)
        for layer in low
    }
    return {layer: float(mask.float().mean()) for layer, mask in dead.items()}, logits


def lrn_spread(model: nn.Module, images: torch.Tensor, batch_size: int = 250) -> dict[str, float]:
    """Per LocalResponseNorm layer, how much it does beyond a constant rescale: the coefficient
    of variation (std / mean) of its output / input ratio over the first `batch_size` images'
    units and positions (where the input is not near 0). 0: LRN only multiplies by a constant
    (k^-beta when alpha * sum(a^2) << k); the paper's LRN varies with the local activity."""
    layers = {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, nn.LocalResponseNorm)
    }
    spreads: dict[str, float] = {}

    def watch(layer: str):  # noqa: ANN202 - a torch forward hook
        def hook(_module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            given = inputs[0].detach().float()
            kept = given.abs() > 1e-3 * given.abs().max().clamp(min=1e-12)
            ratio = output.detach().float()[kept] / given[kept]
            spreads[layer] = float(ratio.std() / ratio.mean()) if ratio.numel() > 1 else 0.0

        return hook

    if not layers:
        return spreads
    handles = [module.register_forward_hook(watch(name)) for name, module in layers.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(images[:batch_size])
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return spreads


class TrainingProbe(L.Callback):
    """Every `every_n_steps` optimizer steps, and before the first: the error (1 - top-1) of the
    model in eval mode on the first `images` training images, un-augmented; the fraction of dead
    units per activation layer; and the spread (std over images, mean over classes) of the
    logits, which is 0 when the output no longer depends on the input. Kept in checkpoints, and
    written to the run's metrics.json as ``probe`` (a list of entries with step and epoch).
    The final weights are probed too, at the end of the fit. With `stop_at_error`, the fit ends
    at the first probe whose error is that low or lower."""

    def __init__(
        self, every_n_steps: int = 10, images: int = 500, stop_at_error: float | None = None
    ) -> None:
        if every_n_steps < 1 or images < 1:
            raise ValueError(
                f"callbacks.training_probe: every_n_steps={every_n_steps} and "
                f"images={images} must both be integers >= 1"
            )
        self.every_n_steps, self.images = every_n_steps, images
        self.stop_at_error = stop_at_error  # end the fit once the error is down to it
        self.entries: list[dict[str, Any]] = []
        self._samples: tuple[torch.Tensor, torch.Tensor] | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._samples = unaugmented_train_samples(trainer.datamodule, self.images)
        if trainer.global_step == 0 and not self.entries:
            self._probe(trainer, pl_module, log=False)  # Lightning logs nothing from this hook

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = trainer.global_step
        if step % self.every_n_steps == 0 and (not self.entries or self.entries[-1]["step"] < step):
            self._probe(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The final weights too, when the fit did not end on a multiple of every_n_steps.
        # (No entries yet: resumed from a checkpoint written without the probe.)
        if self._samples is not None and (
            not self.entries or self.entries[-1]["step"] < trainer.global_step
        ):
            self._probe(trainer, pl_module, log=False)

    def _probe(self, trainer: L.Trainer, pl_module: L.LightningModule, log: bool = True) -> None:
        images, labels = self._samples
        model = pl_module.model
        device = next(model.parameters()).device
        dead, logits = dead_fractions(model, images.to(device))
        error = (logits.argmax(1).cpu() != labels).float().mean().item()
        spread = logits.float().std(0).mean().item() if len(logits) > 1 else 0.0
        entry = {
            "step": trainer.global_step,
            "epoch": trainer.current_epoch,
            "train_error": round(error, 6),
            "logit_spread": round(spread, 6),
            "dead": {layer: round(value, 6) for layer, value in dead.items()},
        }
        spreads = lrn_spread(model, images.to(device))
        if spreads:  # an LRN arm: what its normalization does beyond a constant factor
            entry["lrn_spread"] = {layer: round(value, 6) for layer, value in spreads.items()}
        self.entries.append(entry)
        if not log:
            return  # the probe before training: nothing to stop yet
        if self.stop_at_error is not None and error <= self.stop_at_error:
            trainer.should_stop = True  # at the end of this step
        pl_module.log("probe/train_error", error, on_step=True, on_epoch=False, rank_zero_only=True)
        for layer, value in dead.items():
            pl_module.log(
                f"probe/dead/{layer}", value, on_step=True, on_epoch=False, rank_zero_only=True
            )

    def run_record(self) -> dict[str, Any]:
        """What the run's metrics.json keeps of this callback."""
        return {"probe": self.entries, "probe_images": self.images}

    def state_dict(self) -> dict[str, Any]:
        return {"entries": self.entries}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """A checkpoint's entries, joined with those this process has already: testing the best
        checkpoint (Lightning restores every callback from it) must not drop the later ones."""
        known = {entry["step"]: entry for entry in state_dict["entries"]}
        known.update({entry["step"]: entry for entry in self.entries})
        self.entries = [known[step] for step in sorted(known)]
