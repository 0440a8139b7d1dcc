"""AlexNetModule: the LightningModule that trains any AlexNet preset with any knobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from alexnet.models import create_model
from alexnet.models.weights import WeightsInfo, trainable_parameters
from alexnet.models.weights import freeze as freeze_layers
from alexnet.training.metrics import WeightedMean
from alexnet.training.optim import build_optimizer, build_schedules

STAGES = ("train", "val", "test")


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
        compile: compile the model for the training and validation steps with torch.compile
            when fitting starts; the parameters, checkpoint keys and ``self.model`` stay those
            of the plain model, so picture callbacks (hooks, mode and batch-size changes) and
            evaluating or inspecting a checkpoint never compile or recompile.
        compile_backend: torch.compile's backend (``inductor``; ``aot_eager`` to debug).
        divergence_check: ignored; the divergence guard is a callback now
            (alexnet/run/divergence.py). Accepted so that earlier checkpoints load.
        freeze: the layers that do not train: ``none``; ``features`` (the conv stack; the
            classifier trains); ``all_but_head`` (a linear probe: only the last Linear
            trains). Saved with the other arguments, so a resumed or reloaded module keeps
            them frozen; the optimizer gets only the trainable parameters.

    All arguments are plain values saved in checkpoints, so
    ``AlexNetModule.load_from_checkpoint(path)`` rebuilds the model with no config at hand.
    Evaluation batches of shape (B, crops, C, H, W) (ten-crop) average the crops' softmax.
    """

    def __init__(
        self,
        model: Mapping[str, Any],
        optimizer: Mapping[str, Any] | None = None,
        schedule: Mapping[str, Any] | None = None,
        label_smoothing: float = 0.0,
        channels_last: bool = False,
        compile: bool = False,
        compile_backend: str = "inductor",
        divergence_check: str | None = None,
        freeze: str = "none",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        spec = dict(model)
        self.model = create_model(spec.pop("preset", "alexnet"), **spec)
        freeze_layers(self.model, freeze)
        # What model.weights loaded, with the normalization it expects (run_setup.build_module)
        self.weights_info: WeightsInfo | None = None
        num_classes = self.model.num_classes
        self.optimizer_cfg = dict(
            optimizer or {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}
        )
        self.schedule_cfg = dict(schedule or {"name": "constant"})
        self.label_smoothing = label_smoothing
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.compile_model, self.compile_backend = compile, compile_backend
        for stage in STAGES:  # image-weighted, summed over ranks: exact under DDP
            setattr(self, f"{stage}_loss", WeightedMean())
        self._resumed_train_state: tuple[int, dict[str, dict[str, torch.Tensor]]] | None = None
        for stage in STAGES:
            # Standard top-k accuracy: correct images over images (torchmetrics' default would
            # average per class, which differs on imbalanced data).
            # validate_args=False: no torch.unique over the labels every step (a host sync).
            setattr(
                self,
                f"{stage}_acc1",
                MulticlassAccuracy(num_classes, top_k=1, average="micro", validate_args=False),
            )
            setattr(
                self,
                f"{stage}_acc5",
                MulticlassAccuracy(
                    num_classes, top_k=min(5, num_classes), average="micro", validate_args=False
                ),
            )

    def setup(self, stage: str) -> None:
        if stage == "fit" and self.compile_model and "_compiled" not in self.__dict__:
            # Kept outside the module tree: no state_dict keys, no submodule for callbacks.
            self.__dict__["_compiled"] = torch.compile(self.model, backend=self.compile_backend)

    @property
    def step_model(self) -> torch.nn.Module:
        """The model the training and evaluation steps run: compiled when ``compile``."""
        compiled = self.__dict__.get("_compiled")
        return self.model if compiled is None else compiled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _index: int) -> torch.Tensor:
        images, labels = batch
        logits = self.step_model(images.contiguous(memory_format=self.memory_format))
        loss = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        self._log_metrics("train", loss, logits, labels, on_step=True)
        return loss

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep the training metrics' running sums: a run resumed mid-epoch (a requeued SLURM
        job, a step checkpoint) then ends the epoch with the averages of the whole epoch."""
        own = {
            name: {
                key: value.detach().cpu().clone()
                for key, value in getattr(self, f"train_{name}").metric_state.items()
            }
            for name in ("loss", "acc1", "acc5")
        }
        trainer = self._attached_trainer()
        world = trainer.world_size if trainer is not None else 1
        if world > 1 and torch.distributed.is_initialized():  # each rank's own partial sums
            ranks: list[Any] = [None] * world
            torch.distributed.all_gather_object(ranks, own)
            checkpoint["train_metric_state"] = {"ranks": ranks}
        else:
            checkpoint["train_metric_state"] = own

    def _attached_trainer(self) -> L.Trainer | None:
        """The Trainer this module is attached to, or None (a checkpoint saved or loaded by
        hand): Lightning's public `trainer` raises when there is none."""
        try:
            return self.trainer
        except RuntimeError:
            return None

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("train_metric_state")
        if state and "ranks" in state:  # saved under DDP: this rank's own, if it had one
            trainer = self._attached_trainer()
            rank = trainer.global_rank if trainer is not None else 0
            state = state["ranks"][rank] if rank < len(state["ranks"]) else None
        self._resumed_train_state = (checkpoint.get("epoch", -1), state) if state else None

    def on_train_start(self) -> None:
        """Put back the saved running sums when fit resumes inside the epoch they belong to (a
        checkpoint from an epoch's end resumes in the next epoch, which starts from zero)."""
        resumed, self._resumed_train_state = self._resumed_train_state, None
        if resumed is None or resumed[0] != self.current_epoch:
            return
        for name, values in resumed[1].items():  # into the epoch's fresh (zero) running sums
            getattr(self, f"train_{name}").merge_state(
                {key: value.to(self.device) for key, value in values.items()}
            )

    def validation_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], _index: int
    ) -> dict[str, torch.Tensor]:
        return {"scores": self._evaluate("val", batch)}

    def test_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], _index: int
    ) -> dict[str, torch.Tensor]:
        return {"scores": self._evaluate("test", batch)}

    def _evaluate(self, stage: str, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Log the loss and accuracies of `batch`; return its class scores (detached)."""
        images, labels = batch
        if images.dim() == 5:  # (B, crops, C, H, W): average the softmax over the crops
            crops = images.shape[1]
            flat = images.flatten(0, 1).contiguous(memory_format=self.memory_format)
            probs = self.step_model(flat).softmax(-1)
            probs = probs.view(images.shape[0], crops, -1).mean(1)
            loss = F.nll_loss(probs.clamp_min(1e-12).log(), labels)
            self._log_metrics(stage, loss, probs, labels)
            return probs.detach()
        logits = self.step_model(images.contiguous(memory_format=self.memory_format))
        self._log_metrics(stage, F.cross_entropy(logits, labels), logits, labels)
        return logits.detach()

    def _log_metrics(
        self,
        stage: str,
        loss: torch.Tensor,
        scores: torch.Tensor,
        labels: torch.Tensor,
        on_step: bool = False,
    ) -> None:
        acc1, acc5 = getattr(self, f"{stage}_acc1"), getattr(self, f"{stage}_acc5")
        acc1(scores, labels)
        acc5(scores, labels)
        mean_loss = getattr(self, f"{stage}_loss")
        mean_loss(loss.detach(), weight=labels.numel())
        # Step values stay off the progress bar: Lightning reads every progress-bar value on the
        # host at every step (a GPU sync), whatever the bar's refresh rate.
        self.log(f"{stage}/loss", mean_loss, on_step=on_step, on_epoch=True, prog_bar=not on_step)
        self.log(f"{stage}/acc1", acc1, on_step=on_step, on_epoch=True, prog_bar=not on_step)
        self.log(f"{stage}/acc5", acc5, on_step=False, on_epoch=True)

    def configure_optimizers(self) -> dict[str, Any] | torch.optim.Optimizer:
        optimizer = build_optimizer(
            trainable_parameters(self.model),
            self.optimizer_cfg,
            str(self.trainer.precision),
            self.trainer.gradient_clip_val,
        )
        max_epochs = self.trainer.max_epochs if self.trainer.max_epochs else 1
        schedules = build_schedules(optimizer, self.schedule_cfg, max(1, max_epochs))
        if not schedules:
            return optimizer
        return [optimizer], schedules
