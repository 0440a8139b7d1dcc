"""Callbacks for the SLURM tests: where each rank runs, and a validation that waits for the
warning signal (instantiated through Hydra in the jobs the tests submit)."""

import json
import logging
import os
import time
from pathlib import Path

import lightning as L

from alexnet.launch.requeue import requested, restart_count

log = logging.getLogger(__name__)


class RecordRankPlace(L.Callback):
    """Writes `folder`/rank<global rank>.json: the SLURM node and node index the rank runs on."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        place = {
            "node": os.environ.get("SLURMD_NODENAME"),
            "node_rank": trainer.node_rank,
            "world_size": trainer.world_size,
        }
        (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(place))


class AwaitSignalInValidation(L.Callback):
    """First attempt only: at the first validation batch of epoch 0, writes `marker` (the test
    signals the job when it appears) and waits up to `timeout_s` for the warning signal's flag,
    then logs whether it came while validating. It changes no number."""

    def __init__(self, marker: str, timeout_s: float = 120.0) -> None:
        self.marker, self.timeout_s = Path(marker), timeout_s

    def on_validation_batch_start(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        batch: object,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if (
            restart_count()
            or trainer.sanity_checking
            or trainer.current_epoch
            or batch_idx
            or self.marker.exists()
        ):
            return
        self.marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + self.timeout_s
        while not requested() and time.monotonic() < deadline:
            time.sleep(0.1)
        log.warning(
            "the warning signal %s during validation",
            "arrived" if requested() else "did not arrive",
        )
