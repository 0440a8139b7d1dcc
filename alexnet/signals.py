"""The signals SLURM sends a job before it stops it, and what a DataLoader worker does with
them: the warning signal (submitit's USR2, or SUBMITIT_PREEMPT_SIGNAL) that alexnet.launch.requeue
turns into a checkpoint and a requeue, which a worker must ignore."""

from __future__ import annotations

import os
import signal

REQUEUE_SIGNAL = getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2"))


def ignore_requeue_signals() -> None:
    """For DataLoader workers. SLURM signals every process of the job step: the warning signal
    (which would kill a worker started fresh, by spawn or forkserver) and, when the job is
    requeued or stopped, SIGTERM, which would turn into a "worker killed" error in the main
    process before it ends cleanly. A worker ends with its main process (or SIGKILL)."""
    for signum in {REQUEUE_SIGNAL, signal.SIGUSR1, signal.SIGTERM}:
        signal.signal(signum, signal.SIG_IGN)
