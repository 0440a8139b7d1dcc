"""AlexNetModule: the LightningModule that trains any AlexNet preset with any knobs."""

from __future__ import annotations

from collections.abc import Mapping
from math import nan
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from alexnet.errors import check_choice
from alexnet.metrics import WeightedMean
from alexnet.models import create_model
from alexnet.models.weights import WeightsInfo, trainable_parameters
from alexnet.models.weights import freeze as freeze_layers
from alexnet.optim import build_optimizer, build_schedules

STAGES = ("train", "val", "test")
# When a non-finite loss is noticed: at once (a host sync every step, free on a CPU), or at the
# trainer's logging steps and the epoch's end (its update is cancelled on the device meanwhile).
DIVERGENCE_CHECKS = ("auto", "step", "deferred")


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
        compile: compile the model for the training and validation steps with torch.compile
            when fitting starts; the parameters, checkpoint keys and ``self.model`` stay those
            of the plain model, so picture callbacks (hooks, mode and batch-size changes) and
            evaluating or inspecting a checkpoint never compile or recompile.
        compile_backend: torch.compile's backend (``inductor``; ``aot_eager`` to debug).
        divergence_check: ``step`` raises DivergenceError at the step whose loss is NaN or
            infinite (reading the loss on the host every step); ``deferred`` replaces that
            step's non-finite gradients by zeros on the device (momentum and weight decay still
            apply, so the weights stay finite) and raises at the next logging step or epoch
            end, with no extra host sync; ``auto``: deferred on a GPU.
        freeze: the layers that do not train: ``none``; ``features`` (the conv stack; the
            classifier trains); ``all_but_head`` (a linear probe: only the last Linear
            trains). Saved with the other arguments, so a resumed or reloaded module keeps
            them frozen; the optimizer gets only the trainable parameters.

    All arguments are plain values saved in checkpoints, so
    ``AlexNetModule.load_from_checkpoint(path)`` rebuilds the model with no config at hand.
    Evaluation batches of shape (B, crops, C, H, W) (ten-crop) average the crops' softmax.
    """

    def __init__(self, model: Mapping[str, Any], optimizer: Mapping[str, Any] | None = None,
                 schedule: Mapping[str, Any] | None = None, label_smoothing: float = 0.0,
                 channels_last: bool = False, compile: bool = False,
                 compile_backend: str = "inductor", divergence_check: str = "auto",
                 freeze: str = "none") -> None:
        super().__init__()
        self.save_hyperparameters()
        spec = dict(model)
        self.model = create_model(spec.pop("preset", "alexnet"), **spec)
        freeze_layers(self.model, freeze)
        # What model.weights loaded, with the normalization it expects (alexnet.run.build_module)
        self.weights_info: WeightsInfo | None = None
        num_classes = self.model.num_classes
        self.optimizer_cfg = dict(optimizer or {"name": "sgd", "lr": 0.01, "momentum": 0.9,
                                                "weight_decay": 5e-4})
        self.schedule_cfg = dict(schedule or {"name": "constant"})
        self.label_smoothing = label_smoothing
        check_choice("divergence_check", divergence_check, DIVERGENCE_CHECKS)
        self.divergence_check = divergence_check
        self._deferring = False  # deferred check active (set by the first training step)
        self._last_loss: torch.Tensor | None = None  # this step's loss, on the device
        self._first_bad: torch.Tensor | None = None  # (step, loss) of the first bad step, or -1
        self._checked_at = -1
        self._device_step: torch.Tensor | None = None  # global_step, counted on the device
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
            setattr(self, f"{stage}_acc1", MulticlassAccuracy(
                num_classes, top_k=1, average="micro", validate_args=False))
            setattr(self, f"{stage}_acc5", MulticlassAccuracy(
                num_classes, top_k=min(5, num_classes), average="micro", validate_args=False))

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
        if self._deferred(loss):
            self._deferring = True
            self._last_loss = loss.detach().float()
        elif not torch.isfinite(loss):  # before backward: no NaN ever reaches the weights
            raise DivergenceError(loss.item(), self.global_step, self.current_epoch)
        self._log_metrics("train", loss, logits, labels, on_step=True)
        return loss

    def _deferred(self, loss: torch.Tensor) -> bool:
        if self.divergence_check == "auto":
            return loss.device.type == "cuda"
        return self.divergence_check == "deferred"

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Deferred check: decided from the gradients the optimizer is about to apply (already
        accumulated over micro-batches and reduced over DDP ranks, so every rank decides alike).
        Non-finite ones are zeroed in place on the device: no NaN reaches the weights, though
        momentum and weight decay still move them by finite amounts, and the host never waits.
        Under fp16's GradScaler an overflow is the scaler's (it skips the step and backs off):
        there only a non-finite loss counts. The first bad step and its loss are remembered on
        the device."""
        if not self._deferring:
            return
        grads = [p.grad for group in optimizer.param_groups for p in group["params"]
                 if p.grad is not None]
        if not grads:
            return
        if self._grad_scaler() is not None:
            finite = torch.isfinite(self._last_loss).all() if self._last_loss is not None \
                else torch.ones((), dtype=torch.bool, device=grads[0].device)
        else:
            finite = torch.stack([torch.isfinite(g).all() for g in grads]).all()
            for grad in grads:  # in place: DDP's gradient_as_bucket_view keeps its buffers
                grad.masked_fill_(~finite, 0.0)
        if self._first_bad is None:  # filled on the device: no host-to-device copy per step
            device = grads[0].device
            self._first_bad = torch.full((2,), -1.0, device=device)
            self._device_step = torch.full((), float(self.global_step), device=device)
        step = self._device_step
        loss = self._last_loss if self._last_loss is not None else torch.full_like(step, nan)
        loss = torch.where(torch.isfinite(loss), torch.full_like(loss, nan), loss)
        first_time = (~finite) & (self._first_bad[0] < 0)
        self._first_bad = torch.where(first_time, torch.stack([step, loss]), self._first_bad)
        self._device_step = step + 1

    def _grad_scaler(self) -> torch.amp.GradScaler | None:
        """The GradScaler of the trainer's precision (16-mixed), if any."""
        return getattr(self.trainer.precision_plugin, "scaler", None)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """Deferred check: read the flag at the trainer's logging steps (one host sync)."""
        step = self.global_step
        every = max(1, self.trainer.log_every_n_steps)
        if self._first_bad is None or step == 0 or step % every or step == self._checked_at:
            return  # not a logging step, or this step checked already (gradient accumulation)
        self._checked_at = step
        self.raise_if_diverged()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep the training metrics' running sums: a run resumed mid-epoch (a requeued SLURM
        job, a step checkpoint) then ends the epoch with the averages of the whole epoch."""
        own = {name: {key: value.detach().cpu().clone() for key, value in
                      getattr(self, f"train_{name}").metric_state.items()}
               for name in ("loss", "acc1", "acc5")}
        world = self.trainer.world_size if self._trainer is not None else 1
        if world > 1 and torch.distributed.is_initialized():  # each rank's own partial sums
            ranks: list[Any] = [None] * world
            torch.distributed.all_gather_object(ranks, own)
            checkpoint["train_metric_state"] = {"ranks": ranks}
        else:
            checkpoint["train_metric_state"] = own

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("train_metric_state")
        if state and "ranks" in state:  # saved under DDP: this rank's own, if it had one
            rank = self.trainer.global_rank if self._trainer is not None else 0
            state = state["ranks"][rank] if rank < len(state["ranks"]) else None
        self._resumed_train_state = (checkpoint.get("epoch", -1), state) if state else None

    def on_train_start(self) -> None:
        """Put back the saved running sums when fit resumes inside the epoch they belong to (a
        checkpoint from an epoch's end resumes in the next epoch, which starts from zero)."""
        resumed, self._resumed_train_state = self._resumed_train_state, None
        if resumed is None or resumed[0] != self.current_epoch:
            return
        for name, values in resumed[1].items():
            metric = getattr(self, f"train_{name}")
            for key, value in values.items():
                setattr(metric, key, value.to(self.device))
            metric._update_count = max(1, metric._update_count)

    def on_train_epoch_end(self) -> None:
        if self._first_bad is not None:
            self.raise_if_diverged()

    def raise_if_diverged(self) -> None:
        """Raise DivergenceError if a deferred check saw a non-finite loss."""
        step, value = self._first_bad.tolist()
        if step >= 0:
            raise DivergenceError(value, int(step), self.current_epoch)

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
            probs = self.step_model(flat).softmax(-1)
            probs = probs.view(images.shape[0], crops, -1).mean(1)
            loss = F.nll_loss(probs.clamp_min(1e-12).log(), labels)
            self._log_metrics(stage, loss, probs, labels)
            return probs.detach()
        logits = self.step_model(images.contiguous(memory_format=self.memory_format))
        self._log_metrics(stage, F.cross_entropy(logits, labels), logits, labels)
        return logits.detach()

    def _log_metrics(self, stage: str, loss: torch.Tensor, scores: torch.Tensor,
                     labels: torch.Tensor, on_step: bool = False) -> None:
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
        optimizer = build_optimizer(trainable_parameters(self.model), self.optimizer_cfg,
                                    str(self.trainer.precision),
                                    self.trainer.gradient_clip_val)
        max_epochs = self.trainer.max_epochs if self.trainer.max_epochs else 1
        schedules = build_schedules(optimizer, self.schedule_cfg, max(1, max_epochs))
        if not schedules:
            return optimizer
        return [optimizer], schedules
