"""Step 2, host syncs and precision: no host sync in non-logging steps, a NaN gradient stops the
run with finite weights, 16-mixed with the fused optimizer and bf16-mixed with clipping train
without a false divergence."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch

from alexnet import AlexNetModule
from alexnet.config.compose import compose_config
from alexnet.run.api import train
from alexnet.run.divergence import DivergenceGuard

from .checks import Checks, overrides


# 2 ------------------------------------------------------------------------------------------
class SyncCounter(L.Callback):
    """Host syncs from the start of training to its end: on CUDA the synchronizing calls
    torch.cuda.set_sync_debug_mode reports; on the CPU the Python calls that would sync."""

    calls = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        type(self).calls = 0
        self.cuda = pl_module.device.type == "cuda"
        if self.cuda:
            self._caught = warnings.catch_warnings(record=True)
            self._seen = self._caught.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            return
        self._originals = {
            name: getattr(torch.Tensor, name)
            for name in ("item", "__bool__", "tolist", "cpu", "numpy")
        }
        for name, original in self._originals.items():
            setattr(torch.Tensor, name, _counted(original))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.cuda:
            torch.cuda.set_sync_debug_mode("default")
            type(self).calls = sum("synchroniz" in str(w.message) for w in self._seen)
            self._caught.__exit__(None, None, None)
            return
        for name, original in self._originals.items():
            setattr(torch.Tensor, name, original)


def _counted(original: Callable) -> Callable:
    def counted(*args: Any, **kwargs: Any) -> Any:
        SyncCounter.calls += 1
        return original(*args, **kwargs)

    return counted


class InjectNaN(L.Callback):
    """A NaN in the first weight's gradient at step 3."""

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 3:
            next(pl_module.parameters()).grad.fill_(math.nan)


def tiny_module(device: str) -> AlexNetModule:
    return AlexNetModule(
        model={"preset": "alexnet" if device == "cuda" else "mini", "num_classes": 10}
    )


def tiny_fit(
    module: AlexNetModule,
    device: str,
    work: Path,
    steps: int,
    precision: str = "32-true",
    callbacks: list | None = None,
    **trainer: Any,
) -> int:
    """A direct fit on random batches (no data pipeline): the steps it made."""
    size = 112 if device == "cuda" else 64
    generator = torch.Generator().manual_seed(0)
    data = [
        (
            torch.randn(16, 3, size, size, generator=generator),
            torch.randint(0, 10, (16,), generator=generator),
        )
        for _ in range(steps)
    ]
    fit = L.Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        precision=precision,
        max_steps=steps,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=5,
        default_root_dir=str(work),
        callbacks=[DivergenceGuard("deferred"), *(callbacks or [])],
        **trainer,
    )
    fit.fit(module, torch.utils.data.DataLoader(data, batch_size=None))
    return fit.global_step


def precision(checks: Checks, work: Path) -> None:
    device = checks.device

    def syncs() -> None:
        counts = {}
        for steps in (4, 10):
            train(
                compose_config(
                    overrides(
                        device,
                        "data.train_per_class=64",
                        "trainer.max_epochs=1",
                        f"trainer.max_steps={steps}",
                        "trainer.limit_val_batches=0",
                        "trainer.log_every_n_steps=1000",
                        "divergence_check=deferred",
                        "+callbacks.sync_counter._target_=experiments.acceptance_steps.numerics.SyncCounter",
                    ),
                    output_dir=work / f"syncs_{steps}",
                )
            )
            counts[steps] = SyncCounter.calls
        checks.check(
            "no host sync in non-logging steps",
            counts[4] == counts[10],
            f"syncs over 4 steps: {counts[4]}, over 10: {counts[10]} (each step that "
            "synced would add one)",
        )

    def nan() -> None:
        from alexnet.run.divergence import DivergenceError

        module, error = tiny_module(device), None
        try:
            tiny_fit(module, device, work / "nan", 10, callbacks=[InjectNaN()])
        except DivergenceError as err:
            error = err
        checks.check(
            "a NaN gradient stops the run",
            error is not None,
            str(error).split(";")[0] if error else "no DivergenceError",
        )
        checks.check(
            "the weights stay finite",
            all(bool(torch.isfinite(p).all()) for p in module.parameters()),
        )

    def fp16() -> None:
        if not checks.cuda_only("16-mixed with the fused optimizer: 20 steps, no false divergence"):
            return
        module = tiny_module(device)
        steps = tiny_fit(module, device, work / "fp16", 20, precision="16-mixed")
        scale = float(module.trainer.precision_plugin.scaler.get_scale())
        checks.check(
            "16-mixed with the fused optimizer: 20 steps, no false divergence",
            steps == 20,
            f"{steps} steps, loss scale {scale}",
        )

    def bf16_clip() -> None:
        steps = tiny_fit(
            tiny_module(device),
            device,
            work / "bf16",
            20,
            precision="bf16-mixed",
            gradient_clip_val=1.0,
        )
        checks.check("bf16-mixed with gradient clipping: 20 steps", steps == 20, f"{steps} steps")

    checks.attempt("no host sync in non-logging steps", syncs)
    checks.attempt("a NaN gradient stops the run", nan)
    checks.attempt("16-mixed with the fused optimizer", fp16)
    checks.attempt("bf16-mixed with gradient clipping", bf16_clip)
