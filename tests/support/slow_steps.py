"""A callback that sleeps after every training step: a run that takes as long as a test needs
(to outlast a SLURM time limit) without using the CPU or changing a single number."""

import time

import lightning as L

from alexnet.launch.requeue import restart_count


class SleepEachStep(L.Callback):
    """Sleeps `seconds` after each step; with `first_attempt_only`, only before SLURM first
    requeues the job (so that the attempt after it finishes quickly)."""

    def __init__(self, seconds: float, first_attempt_only: bool = False) -> None:
        self.seconds, self.first_attempt_only = seconds, first_attempt_only

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if not (self.first_attempt_only and restart_count()):
            time.sleep(self.seconds)
