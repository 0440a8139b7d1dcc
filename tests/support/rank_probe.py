"""A callback that records, for each DDP rank, where it runs and on which hyperparameters."""

import json
import os
from pathlib import Path

import lightning as L
import torch


class RecordRank(L.Callback):
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        out = Path(trainer.default_root_dir)
        record = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "activation": pl_module.hparams["model"]["activation"],
            "pid": os.getpid(),
            "lr": pl_module.hparams["optimizer"]["lr"],
        }
        (out / f"rank_{trainer.global_rank}.json").write_text(json.dumps(record))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        """The first draw of this rank's torch generator at the first batch (without using it)."""
        path = Path(trainer.default_root_dir) / f"rank_{trainer.global_rank}.json"
        record = json.loads(path.read_text())
        if "draw" not in record:
            with torch.random.fork_rng(devices=[]):
                record["draw"] = torch.rand(3).tolist()
            path.write_text(json.dumps(record))


class RaiseOnRank(L.Callback):
    """Raises on one rank only, at a training step: the other ranks wait in a collective."""

    def __init__(self, rank: int, step: int = 1) -> None:
        self.rank, self.step = rank, step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_rank == self.rank and trainer.global_step == self.step:
            raise ValueError(f"raised on rank {self.rank} only")
