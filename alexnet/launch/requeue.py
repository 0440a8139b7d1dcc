"""Surviving a SLURM time limit or a preemption.

SLURM sends the warning signal (submitit's USR2; set with `hydra.launcher.signal_delay_s`) before
it stops a job. Here the signal only raises a flag; `RequeueOnSignal` checks the flag at batch
boundaries, saves ``checkpoints/requeue.ckpt`` there, requeues the job (`scontrol requeue`) and
exits the run with `Requeued`. The requeued job starts again with SLURM_RESTART_COUNT set and
`train()` resumes from the run dir's newest checkpoint: the same run dir, the same result.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
from pathlib import Path
from typing import Any

import lightning as L

from alexnet.signals import REQUEUE_SIGNAL

log = logging.getLogger(__name__)

REQUEUE_CHECKPOINT = "requeue.ckpt"  # in the run's checkpoints/ dir
_flag: dict[str, Any] = {"signal": None, "requeued": False}


class Requeued(SystemExit):
    """The run saved its state and requeued its SLURM job: the process ends here (a SystemExit,
    so that neither Hydra nor submitit records a result: the requeued job will)."""


EARLY_SIGNALS = "ALEXNET_EARLY_SIGNALS"  # the file alexnet/launch/slurm_task.sh writes signals to
EARLY_SIGNALS_BATCH = "ALEXNET_EARLY_SIGNALS_BATCH"  # the batch shell's, before srun
TASK_SCRIPT = Path(__file__).with_name("slurm_task.sh")


def install_signal_flag(signum: int = REQUEUE_SIGNAL) -> None:
    """From now on `signum` only raises the flag that `requested()` reads (the process's
    DataLoader workers ignore it). A warning signal that came before (while slurm_task.sh kept
    it ignored) raises the flag now; USR1 and TERM get their default actions back."""
    signal.signal(signum, _raise_flag)
    for other in (signal.SIGUSR1, signal.SIGTERM):
        if other != signum and signal.getsignal(other) == signal.SIG_IGN:
            signal.signal(other, signal.SIG_DFL)
    arrived = []
    for record in (os.environ.get(EARLY_SIGNALS), os.environ.get(EARLY_SIGNALS_BATCH)):
        if record and Path(record).is_file():
            arrived += Path(record).read_text().split()
    if arrived:
        _flag["signal"] = signum
        log.warning(
            "SLURM's warning signal (%s) arrived while the job was starting: the run "
            "requeues at its first batch boundary",
            ", ".join(sorted(set(arrived))),
        )


def batch_signal_setup() -> list[str]:
    """Lines for the job's batch script, before srun: it records the warning signals that come
    before the tasks exist (cleared at each attempt's start: a requeued job keeps its id)."""
    record = '"${TMPDIR:-/tmp}/alexnet-signals-${SLURM_JOB_ID}-batch"'
    return [
        f"export {EARLY_SIGNALS_BATCH}={record}",
        f'rm -f "${EARLY_SIGNALS_BATCH}"',
        f"trap 'echo USR1 >> \"${EARLY_SIGNALS_BATCH}\"' USR1",
        f"trap 'echo USR2 >> \"${EARLY_SIGNALS_BATCH}\"' USR2",
    ]


def task_python(python: str) -> str:
    """The command that starts python in a SLURM task: `python` under slurm_task.sh."""
    return f"sh {shlex.quote(str(TASK_SCRIPT))} {python}"


def _raise_flag(signum: int, frame: Any) -> None:
    _flag["signal"] = signum


def requested() -> bool:
    """Has the warning signal arrived?"""
    return _flag["signal"] is not None


def requeued() -> bool:
    """Has this process requeued its job? Then however the run ends, it ends as `Requeued`."""
    return bool(_flag["requeued"])


def restart_count() -> int:
    """How often SLURM has requeued this job (0 outside SLURM)."""
    return int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0)


def requeue_job() -> str:
    """`scontrol requeue` this job (its array task, if any); returns the job id."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    job = (
        f"{array_job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
        if array_job
        else os.environ["SLURM_JOB_ID"]
    )
    subprocess.run(["scontrol", "requeue", job], check=True, timeout=60, capture_output=True)
    return job


class RequeueOnSignal(L.Callback):
    """At the first batch boundary after the warning signal: save `path`, requeue the job and
    raise `Requeued` (on every rank; ranks agree on the step by an all-reduce every
    `sync_every_n_steps` steps, so a single process checks every step for free)."""

    def __init__(self, path: str | Path, sync_every_n_steps: int = 10) -> None:
        self.path = Path(path)
        self.sync_every_n_steps = sync_every_n_steps

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if trainer.world_size > 1:
            if trainer.global_step % self.sync_every_n_steps:
                return
            stop = trainer.strategy.reduce_boolean_decision(requested(), all=False)
        else:
            stop = requested()
        if stop:
            requeue(trainer, self.path)


def requeue(trainer: L.Trainer, path: Path | None) -> None:
    """Save `path` (unless None), requeue the job from rank zero, raise `Requeued`.

    SLURM stops the job's processes as soon as it is requeued: from here on SIGTERM is ignored
    by this process, and whatever else ends the run (a DataLoader worker killed by it) is taken
    for the requeue (`requeued()`), never for a failure that would report the job finished.
    """
    if path is not None:
        trainer.save_checkpoint(path)
    _flag["requeued"] = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if trainer.is_global_zero:
        job = requeue_job()
        log.warning(
            "SLURM's warning signal: saved %s at step %d and requeued job %s; it "
            "resumes from there",
            path or "nothing new",
            trainer.global_step,
            job,
        )
    raise Requeued(0)
