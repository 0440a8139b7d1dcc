"""AlexNetModule: the LightningModule that trains any AlexNet preset with any knobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from alexnet.models import create_model
from alexnet.optim import build_optimizer, build_schedules

STAGES = ("train", "val", "test")


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite; raised before the bad step touches the weights."""

    def __init__(self, value: float, step: int, epoch: int) -> None:
        super().__init__(f"training diverged: the loss is {value} at step {step} (epoch {epoch}); "
                         "the weights of the last good checkpoint are kept (try a lower "
                         "optimizer.lr)")
        self.step, self.epoch = step, epoch


class AlexNetModule(L.LightningModule):
    """Cross-entropy training of `create_model(**model)` with top-1/top-5 accuracy.

    Args:
        model: `create_model` arguments: ``preset``, ``num_classes`` and any knobs.
        optimizer: ``name`` (sgd, adam, adamw) and its arguments (lr, momentum, ...).
        schedule: ``name`` (constant, step, multistep, cosine, exponential, plateau), its
            arguments and an optional ``warmup_steps``.
        label_smoothing: of the training loss.
        channels_last: keep weights and batches in NHWC memory format (faster convs on
            tensor cores and on recent CPUs).
        compile: compile the model's forward with torch.compile (the parameters and checkpoint
            keys stay those of the plain model).

    All arguments are plain values saved in checkpoints, so
    ``AlexNetModule.load_from_checkpoint(path)`` rebuilds the model with no config at hand.
    Evaluation batches of shape (B, crops, C, H, W) (ten-crop) average the crops' softmax.
    """

    def __init__(self, model: Mapping[str, Any], optimizer: Mapping[str, Any] | None = None,
                 schedule: Mapping[str, Any] | None = None, label_smoothing: float = 0.0,
                 channels_last: bool = False, compile: bool = False) -> None:
        super().__init__()
        self.save_hyperparameters()
        spec = dict(model)
        self.model = create_model(spec.pop("preset", "alexnet"), **spec)
        num_classes = self.model.num_classes
        self.optimizer_cfg = dict(optimizer or {"name": "sgd", "lr": 0.01, "momentum": 0.9,
                                                "weight_decay": 5e-4})
        self.schedule_cfg = dict(schedule or {"name": "constant"})
        self.label_smoothing = label_smoothing
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        if compile:
            self.model.compile()
        for stage in STAGES:
            setattr(self, f"{stage}_acc1", MulticlassAccuracy(num_classes, top_k=1))
            setattr(self, f"{stage}_acc5", MulticlassAccuracy(num_classes, top_k=min(5, num_classes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _index: int) -> torch.Tensor:
        images, labels = batch
        logits = self.model(images.contiguous(memory_format=self.memory_format))
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        if not torch.isfinite(loss):  # before backward: no NaN ever reaches the weights
            raise DivergenceError(loss.item(), self.global_step, self.current_epoch)
        self._log_metrics("train", loss, logits, labels, on_step=True)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _index: int
                        ) -> dict[str, torch.Tensor]:
        return {"scores": self._evaluate("val", batch)}

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], _index: int
                  ) -> dict[str, torch.Tensor]:
        return {"scores": self._evaluate("test", batch)}

    def _evaluate(self, stage: str, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Log the loss and accuracies of `batch`; return its class scores (detached)."""
        images, labels = batch
        if images.dim() == 5:  # (B, crops, C, H, W): average the softmax over the crops
            crops = images.shape[1]
            flat = images.flatten(0, 1).contiguous(memory_format=self.memory_format)
            probs = self.model(flat).softmax(-1)
            probs = probs.view(images.shape[0], crops, -1).mean(1)
            loss = F.nll_loss(probs.clamp_min(1e-12).log(), labels)
            self._log_metrics(stage, loss, probs, labels)
            return probs.detach()
        logits = self.model(images.contiguous(memory_format=self.memory_format))
        self._log_metrics(stage, F.cross_entropy(logits, labels), logits, labels)
        return logits.detach()

    def _log_metrics(self, stage: str, loss: torch.Tensor, scores: torch.Tensor,
                     labels: torch.Tensor, on_step: bool = False) -> None:
        acc1, acc5 = getattr(self, f"{stage}_acc1"), getattr(self, f"{stage}_acc5")
        acc1(scores, labels)
        acc5(scores, labels)
        sync = stage != "train"
        self.log(f"{stage}/loss", loss, on_step=on_step, on_epoch=True, prog_bar=True,
                 sync_dist=sync)
        self.log(f"{stage}/acc1", acc1, on_step=on_step, on_epoch=True, prog_bar=True)
        self.log(f"{stage}/acc5", acc5, on_step=False, on_epoch=True)

    def configure_optimizers(self) -> dict[str, Any] | torch.optim.Optimizer:
        optimizer = build_optimizer(self.model.parameters(), self.optimizer_cfg)
        max_epochs = self.trainer.max_epochs if self.trainer.max_epochs else 1
        schedules = build_schedules(optimizer, self.schedule_cfg, max(1, max_epochs))
        if not schedules:
            return optimizer
        return [optimizer], schedules
