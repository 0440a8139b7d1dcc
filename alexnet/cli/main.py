"""Process policy of the command line: Hydra mains, exit codes, one-line errors, sweeps.

What a run does is alexnet/run/api.py's; here is only how a process reports it: a user mistake is
one line on stderr and a non-zero exit, leaving no run dir behind; in a sweep a failed job is
recorded and the sweep goes on.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from alexnet.config.compose import CONF_DIR
from alexnet.config.overrides_check import check_command_line
from alexnet.errors import DataError, InvalidValue
from alexnet.launch.device_slots import take_device
from alexnet.launch.distributed import RankFailed
from alexnet.launch.requeue import Requeued, requeued
from alexnet.record import failed, write_record
from alexnet.run.api import evaluate, train
from alexnet.run.divergence import DivergenceError
from alexnet.run.lock import LOCK_FILE, RunDirBusy, lock_run_dir
from alexnet.run.setup import overrides
from alexnet.run.stop_reasons import RunStopped, out_of_memory, out_of_memory_line

log = logging.getLogger(__name__)


def _fail(err: Exception, unused_dir: Path | None = None) -> None:
    """One line on stderr and a non-zero exit; `unused_dir`, a run dir that holds nothing but
    Hydra's own files, is removed (a mistake caught before training leaves no trace)."""
    if unused_dir is not None and _remove_if_empty(unused_dir):
        sys.exit(f"error: {err}")  # its log file is gone with it
    log.error("%s", err)
    sys.exit(f"error: {err}")


@hydra.main(config_path=str(CONF_DIR), config_name="train", version_base="1.3")
def train_main(cfg: DictConfig) -> float | None:
    """`python train.py ...`: returns the metric a sweeper optimizes (`optimized_metric`).

    In a sweep, a failed job returns None (Optuna records the trial as failed, the basic sweeper
    goes on; each job's metrics.json says what happened); a single run exits non-zero with one
    line for a user mistake.
    """
    output_dir = Path(cfg.paths.output_dir)
    slot = None
    try:
        slot = take_device(cfg) if _in_sweep() else None
        record = train(cfg)
    except RunDirBusy as err:  # the folder is another live run's: touch nothing of it
        _fail(err)
    except (InvalidValue, DataError) as err:
        if _in_sweep():
            _record_failure(output_dir, err)
            return None
        _fail(err, unused_dir=output_dir)
    except RunStopped as err:  # its record says why; Ctrl-C and SIGTERM end a sweep too
        if _in_sweep() and err.status in ("failed", "no_space"):
            log.error("Job %s; the sweep goes on: %s", err.status, err)
            return None
        sys.stderr.write(f"error: {err}\n")
        sys.exit(err.exit_code)
    except (DivergenceError, RankFailed) as err:
        if _in_sweep():
            log.error("Job failed; the sweep goes on: %s", err)
            return None
        _fail(err)
    except Exception as err:
        if requeued():  # a requeued SLURM job stopping: it reports when it completes
            raise Requeued(0) from err
        memory = out_of_memory(err)  # before training: building the model or the data
        if memory is not None and not _in_sweep():
            _fail(RunStopped("failed", out_of_memory_line(memory, cfg), 1), output_dir)
        if _in_sweep():
            log.exception("Job failed; the sweep goes on")
            return None
        raise
    finally:
        if slot is not None:
            slot.release()
    metric = record["metrics"].get(cfg.get("optimized_metric") or "")
    return metric


def _rank_zero() -> bool:
    """Is this process rank zero, as far as the launcher's environment says?"""
    ranks = ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")
    return all(os.environ.get(name, "0") == "0" for name in ranks)


def _in_sweep() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _record_failure(output_dir: Path, err: Exception) -> None:
    """metrics.json of a job that failed before training started."""
    log.error("%s", err)
    write_record(output_dir, failed(f"{type(err).__name__}: {err}", overrides()))


def _remove_if_empty(output_dir: Path) -> bool:
    """Remove a run dir that holds nothing but Hydra's own files; True if it is gone."""
    if not output_dir.is_dir():
        return False
    ours = (".hydra", LOCK_FILE)
    if any(entry.name not in ours and entry.suffix != ".log" for entry in output_dir.iterdir()):
        return False
    root = logging.getLogger()
    for handler in list(root.handlers):  # Hydra's log file lives in the dir
        if (
            isinstance(handler, logging.FileHandler)
            and Path(handler.baseFilename).parent == output_dir.resolve()
        ):
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(output_dir, ignore_errors=True)
    return True


@hydra.main(config_path=str(CONF_DIR), config_name="eval", version_base="1.3")
def eval_main(cfg: DictConfig) -> None:
    """`python eval.py ckpt_path=... [split=val|test] [data.eval_crop=ten_crop]`."""
    try:
        evaluate(cfg)
    except (InvalidValue, DataError) as err:
        _fail(err, unused_dir=Path(cfg.paths.output_dir))


@hydra.main(config_path=str(CONF_DIR), config_name="interpret", version_base="1.3")
def interpret_main(cfg: DictConfig) -> None:
    """`python -m experiments.interpret ckpt_path=... | model.weights=...`."""
    from alexnet.cli.interpret import interpret  # captum and matplotlib only when asked

    try:
        interpret(cfg)
    except (InvalidValue, DataError, ImportError) as err:
        _fail(err, unused_dir=Path(cfg.paths.output_dir))


@hydra.main(config_path=str(CONF_DIR), config_name="predict", version_base="1.3")
def predict_main(cfg: DictConfig) -> None:
    """`python predict.py ckpt_path=... input=...`."""
    from alexnet.cli.predict import predict_files

    try:
        predict_files(cfg)
    except (InvalidValue, DataError, OSError) as err:  # OSError: a full disk, a lost mount
        _fail(err, unused_dir=Path(cfg.paths.output_dir))


@hydra.main(config_path=str(CONF_DIR), config_name="export", version_base="1.3")
def export_main(cfg: DictConfig) -> None:
    """`python export.py ckpt_path=... format=onnx|torchscript|safetensors`."""
    from alexnet.cli.export import export
    from alexnet.inference.export import ExportMismatch

    try:
        export(cfg)
    except (InvalidValue, DataError, ImportError, ExportMismatch, OSError) as err:
        _fail(err, unused_dir=Path(cfg.paths.output_dir))


def train_command() -> None:
    """`python train.py ...`: the overrides checked (one line for a mistake), then the run."""
    _check_overrides("train")
    _lock_given_run_dir(sys.argv[1:])
    train_main()


def _lock_given_run_dir(argv: list[str]) -> None:
    """A run dir named on the command line is locked before Hydra writes its files there: a
    second run in a live run's folder changes nothing of it (alexnet/run/lock.py)."""
    if any(arg in ("-m", "--multirun") for arg in argv) or not _rank_zero():
        return  # a DDP rank other than zero runs in rank zero's folder
    given = [a.split("=", 1)[1] for a in argv if a.startswith("hydra.run.dir=")]
    if given and "${" not in given[-1]:
        try:
            lock_run_dir(Path(given[-1]))
        except RunDirBusy as err:
            sys.exit(f"error: {err}")


def eval_command() -> None:
    """`python eval.py ...`: the overrides checked (one line for a mistake), then the run."""
    _check_overrides("eval")
    eval_main()


def interpret_command() -> None:
    """`python -m experiments.interpret ...`: the overrides checked, then the report."""
    _check_overrides("interpret")
    interpret_main()


def predict_command() -> None:
    """`python predict.py ...`: the overrides checked, then the predictions."""
    _check_overrides("predict")
    predict_main()


def export_command() -> None:
    """`python export.py ...`: the overrides checked, then the export."""
    _check_overrides("export")
    export_main()


def _check_overrides(config_name: str) -> None:
    try:
        check_command_line(sys.argv[1:], config_name)
    except InvalidValue as err:
        sys.exit(f"error: {err}")
