"""A callback that records, for each DDP rank, where it runs and on which hyperparameters."""

import json
import os
from pathlib import Path

import lightning as L


class RecordRank(L.Callback):
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        out = Path(trainer.default_root_dir)
        record = {"rank": trainer.global_rank, "world_size": trainer.world_size,
                  "activation": pl_module.hparams["model"]["activation"], "pid": os.getpid(),
                  "lr": pl_module.hparams["optimizer"]["lr"]}
        (out / f"rank_{trainer.global_rank}.json").write_text(json.dumps(record))
