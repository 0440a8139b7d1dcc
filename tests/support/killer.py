"""Callbacks that stop their own process at a moment the tests choose: a real `kill -9`, Ctrl-C
(SIGINT) or SIGTERM mid-epoch or during validation, and a real failed allocation (instantiated
through Hydra in a `python train.py` subprocess)."""

import os
import signal

import lightning as L
import torch


class KillAtStep(L.Callback):
    """Sends `signum` (default SIGKILL) to its own process after training step `step`."""

    def __init__(self, step: int, signum: int = signal.SIGKILL) -> None:
        self.step, self.signum = step, signum

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), self.signum)


class KillInValidation(L.Callback):
    """SIGKILL during the validation of epoch `epoch` (after its first batch)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_validation_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.current_epoch == self.epoch and not trainer.sanity_checking:
            os.kill(os.getpid(), signal.SIGKILL)


class AllocateAtStep(L.Callback):
    """Asks the allocator for more memory than any machine has at step `step`: a real failed
    allocation inside training."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == self.step:
            torch.empty(2**50, dtype=torch.uint8)
