"""A callback that holds each sweep job at fit start until `parties` jobs have arrived, so that
the jobs of a parallel sweep are certain to run at the same time."""

import os
import time
from pathlib import Path

import lightning as L


class Rendezvous(L.Callback):
    def __init__(self, folder: str, parties: int = 2, timeout_s: float = 180.0) -> None:
        self.folder, self.parties, self.timeout_s = Path(folder), parties, timeout_s

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / str(os.getpid())).touch()
        deadline = time.monotonic() + self.timeout_s
        while len(list(self.folder.iterdir())) < self.parties:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {len(list(self.folder.iterdir()))} of {self.parties} "
                    "jobs arrived: the sweep's jobs did not run in parallel"
                )
            time.sleep(0.05)
