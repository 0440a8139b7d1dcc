"""A callback that kills its own process with SIGKILL at a given step: a real `kill -9` mid-epoch,
at a step the tests choose (instantiated through Hydra in a `python train.py` subprocess)."""

import os
import signal

import lightning as L


class KillAtStep(L.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)
