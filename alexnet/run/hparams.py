"""The run's hyperparameters with its final metrics, for TensorBoard's HPARAMS tab."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger

from alexnet.models.presets import preset_knobs

FINAL_METRICS = ("train/loss", "train/acc1", "val/loss", "val/acc1", "val/acc5")


class HParamsPanel(L.Callback):
    """At the end of fit, logs the hyperparameters a sweep varies beside the final metrics
    (as ``hparams/<metric>``), so that the HPARAMS tab compares the runs of a sweep."""

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        metrics = {
            f"hparams/{key.replace('/', '_')}": float(trainer.callback_metrics[key])
            for key in FINAL_METRICS
            if key in trainer.callback_metrics
        }
        params = run_hyperparameters(trainer, pl_module)
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.log_hyperparams(params, metrics)


def run_hyperparameters(trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
    """Flat hyperparameters of the run: model knobs, optimizer, schedule, data, seed."""
    hp = pl_module.hparams
    spec = dict(hp.get("model", {}))
    spec.pop("num_classes", None)
    model = {
        "preset": spec.get("preset", "alexnet"),
        **preset_knobs(spec.pop("preset", "alexnet"), **spec),
    }
    optimizer = dict(hp.get("optimizer") or {})
    data = dict(getattr(trainer.datamodule, "hparams", {}) or {})
    return {
        "model": model["preset"],
        "activation": model["activation"],
        "dropout": float(model["dropout"]),
        "lrn": bool(model["lrn"]),
        "pooling": model["pooling"],
        "optimizer": optimizer.get("name", ""),
        "lr": float(optimizer.get("lr", 0.0)),
        "schedule": dict(hp.get("schedule") or {}).get("name", ""),
        "batch_size": int(data.get("batch_size", 0)),
        "augment": data.get("augment", ""),
        "image_size": int(data.get("image_size", 0)),
        "seed": int(data.get("seed", -1)),
    }
