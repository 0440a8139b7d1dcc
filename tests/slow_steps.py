"""A callback that sleeps after every training step: a run that takes as long as a test needs
(to outlast a SLURM time limit) without using the CPU or changing a single number."""

import time

import lightning as L


class SleepEachStep(L.Callback):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        time.sleep(self.seconds)
