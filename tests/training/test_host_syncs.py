"""Training steps that do not log never wait for the device: no call that reads a tensor's
value on the host (Tensor.item, bool, tolist, torch.unique, a copy to the CPU) happens in them.
Counted on the CPU, where the same Python calls would be host syncs on a GPU."""

import pytest
import torch

from alexnet.run.api import train
from tests.conftest import TINY, compose_train

PATCHED = {
    (torch.Tensor, "item"),
    (torch.Tensor, "__bool__"),
    (torch.Tensor, "tolist"),
    (torch.Tensor, "cpu"),
    (torch.Tensor, "numpy"),
    (torch.Tensor, "unique"),
    (torch, "unique"),
}
COUNT = "+callbacks.count_syncs._target_=tests.training.test_host_syncs.CountSyncs"


class CountSyncs(__import__("lightning").Callback):
    """Counts the calls to PATCHED from the start of training to its end (class-level: the run
    is in this process)."""

    calls: dict[str, int] = {}

    def on_train_start(self, trainer, pl_module) -> None:
        type(self).calls = {}
        self._originals = {(owner, name): getattr(owner, name) for owner, name in PATCHED}
        for (owner, name), original in self._originals.items():
            setattr(owner, name, _counting(f"{getattr(owner, '__name__', owner)}.{name}", original))

    def on_train_end(self, trainer, pl_module) -> None:
        for (owner, name), original in self._originals.items():
            setattr(owner, name, original)


def _counting(label, original):
    def counted(*args, **kwargs):
        CountSyncs.calls[label] = CountSyncs.calls.get(label, 0) + 1
        return original(*args, **kwargs)

    return counted


def syncs(tmp_path, steps: int) -> dict[str, int]:
    train(
        compose_train(
            *TINY,
            "data.train_per_class=16",
            f"trainer.max_steps={steps}",
            "trainer.max_epochs=1",
            "trainer.limit_val_batches=0",
            "trainer.log_every_n_steps=1000",
            "checkpoint_every_n_steps=0",
            "divergence_check=deferred",
            "test=false",
            COUNT,
            output_dir=tmp_path / str(steps),
        )
    )
    return dict(CountSyncs.calls)


@pytest.mark.slow
def test_steps_that_do_not_log_read_nothing_on_the_host(tmp_path):
    # The default callbacks (progress bar, checkpoints, pictures) and TensorBoard; the deferred
    # divergence check (the GPU's default). What a run does once (the epoch's end, the final
    # pictures) is the same at 4 and 10 steps; a per-step read would add 6 or more.
    few, many = syncs(tmp_path, 4), syncs(tmp_path, 10)
    assert many == few, {
        k: (few.get(k, 0), many.get(k, 0))
        for k in set(few) | set(many)
        if few.get(k, 0) != many.get(k, 0)
    }
