"""MLflow and Weights & Biases beside TensorBoard: their packages, the run's flat hyperparameters,
its final metrics, and closing their runs.

Lightning's own loggers do the logging: each gets the module's and the data's hyperparameters at
the start of fit (nested keys: ``optimizer/lr``) and the metrics as they are logged. Here they
also get the flat hyperparameters of TensorBoard's HPARAMS table (``activation``, ``lr``, ...),
and, once metrics.json is written, its metrics as ``final/<metric>`` and the run's status.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import Logger, MLFlowLogger, WandbLogger

from alexnet.errors import InvalidValue
from alexnet.run.hparams import run_hyperparameters

log = logging.getLogger(__name__)

# The logger classes that need a package of the `trackers` extra, and that package.
PACKAGES = {"MLFlowLogger": "mlflow", "WandbLogger": "wandb"}
INSTALL = 'pip install -e ".[trackers]"'


def check_trackers(loggers: Mapping[str, Any] | None) -> None:
    """Raise InvalidValue when a selected logger's package is not installed."""
    for name, node in (loggers or {}).items():
        target = str((node or {}).get("_target_", ""))
        package = PACKAGES.get(target.rpartition(".")[2])
        if package and importlib.util.find_spec(package) is None:
            raise InvalidValue(
                "logger",
                name,
                f"the {package} package is not installed; install the trackers extra: {INSTALL}",
            )


def trackers(loggers: Iterable[Logger]) -> list[Logger]:
    """The MLflow and W&B loggers among `loggers`."""
    return [logger for logger in loggers if isinstance(logger, (MLFlowLogger, WandbLogger))]


class TrackerParams(L.Callback):
    """At the start of fit, logs the flat hyperparameters (those of TensorBoard's HPARAMS table)
    to the MLflow and W&B runs, so that their tables compare a sweep's runs by the same names."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        loggers = trackers(trainer.loggers)
        if trainer.is_global_zero and loggers:
            params = run_hyperparameters(trainer, pl_module)
            for logger in loggers:
                logger.log_hyperparams(params)


def finish_trackers(trainer: L.Trainer, record: Mapping[str, Any]) -> None:
    """Log the record's metrics as ``final/<metric>`` and its status, and close the MLflow and
    W&B runs (rank zero). metrics.json is written already: a tracker that fails here (a server
    gone) is a warning, not a failed run; a W&B run is finished anyway, so that the next job of
    a sweep in this process starts its own."""
    if not trainer.is_global_zero:
        return
    completed = record.get("status") == "completed"
    final = {f"final/{key}": float(value) for key, value in (record.get("metrics") or {}).items()}
    for logger in trackers(trainer.loggers):
        _warn_on_error(logger, partial(_log_final, logger, final, trainer.global_step, completed))
        if isinstance(logger, WandbLogger):
            _warn_on_error(logger, partial(_finish_wandb, logger, completed))


def _log_final(logger: Logger, final: dict[str, float], step: int, completed: bool) -> None:
    if final:
        logger.log_metrics(final, step=step)
    logger.finalize("success" if completed else "failed")
    _say_where(logger)


def _finish_wandb(logger: WandbLogger, completed: bool) -> None:
    logger.experiment.finish(exit_code=0 if completed else 1)


def _warn_on_error(logger: Logger, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception as err:  # noqa: BLE001 - the run's record is safe on disk
        log.warning(
            "Could not finish the %s run: %s: %s", type(logger).__name__, type(err).__name__, err
        )


def _say_where(logger: Logger) -> None:
    if isinstance(logger, MLFlowLogger):
        log.info(
            "MLflow: run %s of experiment %s; mlflow ui --backend-store-uri %s",
            logger.run_id,
            logger.experiment_id,
            logger.experiment.tracking_uri,
        )
    elif isinstance(logger, WandbLogger):
        run = logger.experiment
        log.info("W&B: run %s in %s", run.name, Path(run.dir).parent)
