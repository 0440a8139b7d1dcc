"""The gradient norms in TensorBoard are those of the gradients the optimizer applies."""

import lightning as L
import pytest
import torch

from alexnet.run.api import train
from tests.callbacks.test_tensorboard import read_events
from tests.conftest import TINY, compose_train

CAPTURE = "+callbacks.capture._target_=tests.callbacks.test_gradient_norms.CaptureConv1Grad"


class CaptureConv1Grad(L.Callback):
    """conv1's gradient norm as the optimizer is about to apply it, per step."""

    norms: dict[int, float] = {}

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        grad = pl_module.model.features[0].weight.grad
        type(self).norms[trainer.global_step] = float(torch.linalg.vector_norm(grad.float()))


@pytest.mark.slow
def test_gradient_norms_are_the_applied_ones_under_gradient_accumulation(tmp_path):
    CaptureConv1Grad.norms = {}
    train(
        compose_train(
            *TINY,
            "data.train_per_class=8",
            "trainer.max_epochs=1",
            "trainer.accumulate_grad_batches=2",
            "test=false",
            "callbacks.activation_stats.grad_every_n_steps=1",
            CAPTURE,
            output_dir=tmp_path,
        )
    )
    logged = [
        (e.step, e.value)
        for acc in read_events(tmp_path)
        if "gradients/conv1" in acc.Tags()["scalars"]
        for e in acc.Scalars("gradients/conv1")
    ]
    # 6 batches, 2 per optimizer step: one value per step, that of the accumulated gradient
    # (after each backward, the first micro-batch's half-sum would be logged too).
    assert [step for step, _ in logged] == [0, 1, 2]
    for step, value in logged:
        assert value == pytest.approx(CaptureConv1Grad.norms[step], rel=1e-5)
    total = {
        e.step: e.value
        for acc in read_events(tmp_path)
        if "gradients/total" in acc.Tags()["scalars"]
        for e in acc.Scalars("gradients/total")
    }
    assert sorted(total) == [0, 1, 2]  # every parameter's gradient together: at least conv1's
    assert all(total[step] >= value * (1 - 1e-6) for step, value in logged)
