"""Mixed precision and the optimizer: the policy for fused optimizers, gradient clipping and the
divergence guard under a real GradScaler (16-mixed and bf16-mixed run on the CPU too)."""

import lightning as L
import pytest
import torch
from lightning.pytorch.plugins.precision import MixedPrecision
from torch.utils.data import DataLoader, TensorDataset

from alexnet.errors import InvalidValue
from alexnet.run.api import train
from alexnet.run.divergence import DivergenceError, DivergenceGuard
from alexnet.training.module import AlexNetModule
from alexnet.training.optim import fused_policy
from tests.conftest import TINY, compose_train

RUN = [
    *TINY,
    "data.train_per_class=8",
    "logger=none",
    "callbacks=none",
    "test=false",
    "trainer.max_epochs=2",
    "divergence_check=deferred",
    "trainer.log_every_n_steps=1",
]


class OverflowAtStep(L.Callback):
    """At optimizer step 1, an inf in one gradient, as an fp16 overflow makes one; records the
    GradScaler's scale before and after that step."""

    def __init__(self) -> None:
        self.scales: list[float] = []

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 1:
            next(pl_module.model.parameters()).grad.view(-1)[0] = float("inf")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        scaler = trainer.precision_plugin.scaler
        if batch_idx in (1, 2):  # before the overflowing step, and after it
            self.scales.append(float(scaler.get_scale()))


@pytest.mark.parametrize(
    ("precision", "clip", "fused", "why"),
    [
        ("32-true", 0.0, True, None),
        ("bf16-mixed", 0.0, True, None),
        ("bf16-mixed", 1.0, False, "clip"),
        ("16-mixed", 0.0, False, "GradScaler"),
    ],
)
def test_fused_by_default_except_where_clipping_or_a_grad_scaler_needs_the_unscaled_grads(
    precision, clip, fused, why
):
    allowed, reason = fused_policy(precision, clip)
    assert allowed is fused and (reason is None if why is None else why in reason)


def test_a_fused_optimizer_asked_for_where_it_cannot_work_is_one_clear_error(tmp_path):
    with pytest.raises(
        InvalidValue,
        match=r"optimizer.fused=True is not valid; .*"
        r"trainer.precision=bf16-mixed",
    ):
        train(
            compose_train(
                *RUN,
                "trainer.precision=bf16-mixed",
                "trainer.gradient_clip_val=1",
                "optimizer.fused=true",
                output_dir=tmp_path,
            )
        )


@pytest.mark.slow
def test_bf16_with_clipping_trains(tmp_path):
    record = train(
        compose_train(
            *RUN, "trainer.precision=bf16-mixed", "trainer.gradient_clip_val=1", output_dir=tmp_path
        )
    )
    assert record["status"] == "completed" and record["global_step"] == 12


def fp16_fit(
    tmp_path, *callbacks: L.Callback, lr: float = 1e-3, steps: int = 6
) -> tuple[AlexNetModule, torch.amp.GradScaler]:
    """A real Trainer under 16-mixed with a real GradScaler (Lightning turns a plain
    precision="16-mixed" on the CPU into bf16, which has none), the deferred check."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    module = AlexNetModule(
        model={
            "preset": "mini",
            "num_classes": 3,
            "widths": [8, 8, 8],
            "hidden": 16,
            "dropout": 0.0,
        },
        optimizer={"name": "sgd", "lr": lr},
    )
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(
        torch.randn(24, 3, 64, 64, generator=generator),
        torch.randint(0, 3, (24,), generator=generator),
    )
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=steps,
        log_every_n_steps=1,
        plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)],
        callbacks=[DivergenceGuard("deferred"), *callbacks],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(module, DataLoader(data, batch_size=4))
    return module, scaler


def test_an_fp16_overflow_is_the_grad_scalers_not_a_divergence(tmp_path):
    inject = OverflowAtStep()
    module, scaler = fp16_fit(tmp_path, inject)
    # The step with the inf gradient is skipped by the scaler, which backs off (halves its
    # scale) and grows no more; the run goes on: an ordinary overflow is not a divergence.
    assert module.global_step == 6
    assert inject.scales[0] == 2.0**16 and inject.scales[1] == 2.0**15
    assert scaler.get_scale() == 2.0**15
    assert all(torch.isfinite(p).all() for p in module.model.parameters())


def test_a_nan_loss_under_fp16_is_still_a_divergence(tmp_path):
    with pytest.raises(DivergenceError, match="at step"):
        fp16_fit(tmp_path, lr=1e6, steps=12)
