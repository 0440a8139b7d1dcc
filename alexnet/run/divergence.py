"""The divergence guard: a NaN or infinite training loss stops the run before it reaches the
weights, with the step it happened at (run.py adds it to every training run)."""

from __future__ import annotations

from math import nan
from typing import Any

import lightning as L
import torch

from alexnet.errors import check_choice

# When a non-finite loss is noticed: at once (a host sync every step, free on a CPU), or at the
# trainer's logging steps and the epoch's end (its update is cancelled on the device meanwhile).
DIVERGENCE_CHECKS = ("auto", "step", "deferred")


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite; raised before the bad step touches the weights."""

    def __init__(self, value: float, step: int, epoch: int) -> None:
        super().__init__(
            f"training diverged: the loss is {value} at step {step} (epoch {epoch}); "
            "the weights of the last good checkpoint are kept (try a lower "
            "optimizer.lr)"
        )
        self.step, self.epoch = step, epoch


class DivergenceGuard(L.Callback):
    """`check`: ``step`` raises DivergenceError at the step whose loss is NaN or infinite,
    before its backward pass (reading the loss on the host every step); ``deferred`` replaces
    that step's non-finite gradients by zeros on the device (momentum and weight decay still
    apply, so the weights stay finite) and raises at the next logging step or epoch end, with no
    extra host sync; ``auto``: deferred on a GPU."""

    def __init__(self, check: str = "auto") -> None:
        check_choice("divergence_check", check, DIVERGENCE_CHECKS)
        self.check = check
        self._deferring = False  # set by the first training step that defers
        self._last_loss: torch.Tensor | None = None  # this step's loss, on the device
        self._first_bad: torch.Tensor | None = None  # (step, loss) of the first bad step, or -1
        self._device_step: torch.Tensor | None = None  # global_step, counted on the device
        self._checked_at = -1

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        deferred = (
            (loss.device.type == "cuda") if self.check == "auto" else self.check == "deferred"
        )
        if deferred:
            self._deferring = True
            self._last_loss = loss.detach().float()
        elif not torch.isfinite(loss):  # before backward: no NaN ever reaches the weights
            raise DivergenceError(loss.item(), trainer.global_step, trainer.current_epoch)

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        """Deferred check: decided from the gradients the optimizer is about to apply (already
        accumulated over micro-batches and reduced over DDP ranks, so every rank decides alike).
        Non-finite ones are zeroed in place on the device: no NaN reaches the weights, and the
        host never waits. Under fp16's GradScaler an overflow is the scaler's (it skips the step
        and backs off): there only a non-finite loss counts. The first bad step and its loss
        are remembered on the device."""
        if not self._deferring:
            return
        grads = [
            p.grad
            for group in optimizer.param_groups
            for p in group["params"]
            if p.grad is not None
        ]
        if not grads:
            return
        if getattr(trainer.precision_plugin, "scaler", None) is not None:
            finite = (
                torch.isfinite(self._last_loss).all()
                if self._last_loss is not None
                else torch.ones((), dtype=torch.bool, device=grads[0].device)
            )
        else:
            finite = torch.stack([torch.isfinite(g).all() for g in grads]).all()
            for grad in grads:  # in place: DDP's gradient_as_bucket_view keeps its buffers
                grad.masked_fill_(~finite, 0.0)
        if self._first_bad is None:  # filled on the device: no host-to-device copy per step
            device = grads[0].device
            self._first_bad = torch.full((2,), -1.0, device=device)
            self._device_step = torch.full((), float(trainer.global_step), device=device)
        step = self._device_step
        loss = self._last_loss if self._last_loss is not None else torch.full_like(step, nan)
        loss = torch.where(torch.isfinite(loss), torch.full_like(loss, nan), loss)
        first_time = (~finite) & (self._first_bad[0] < 0)
        self._first_bad = torch.where(first_time, torch.stack([step, loss]), self._first_bad)
        self._device_step = step + 1

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        """Deferred check: read the flag at the trainer's logging steps (one host sync)."""
        step = trainer.global_step
        every = max(1, trainer.log_every_n_steps)
        if self._first_bad is None or step == 0 or step % every or step == self._checked_at:
            return  # not a logging step, or this step checked already (gradient accumulation)
        self._checked_at = step
        self.raise_if_diverged(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._first_bad is not None:
            self.raise_if_diverged(trainer)

    def raise_if_diverged(self, trainer: L.Trainer) -> None:
        """Raise DivergenceError if a deferred check saw a non-finite loss."""
        assert self._first_bad is not None
        step, value = self._first_bad.tolist()
        if step >= 0:
            raise DivergenceError(value, int(step), trainer.current_epoch)
