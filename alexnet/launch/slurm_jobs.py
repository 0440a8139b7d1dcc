"""What SLURM says of a submitted job, with or without its accounting database, and a bounded
wait for the job's result: a sweep never waits on a job that has ended.

submitit asks `sacct` only; on a cluster without accounting that fails, the job's state stays
UNKNOWN, and a job that died without writing its result was waited on forever. Here the job is
asked of `scontrol` (the controller knows every job until MinJobAge after its end, accounting or
not), then of `sacct` when the controller has forgotten it; a job that neither knows, or that
has ended without a result for `grace_s`, is a failed job with the reason SLURM gave.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Job states in which a job will not run again by itself (squeue(1), "JOB STATE CODES").
ENDED = {
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "NODE_FAIL",
    "BOOT_FAIL",
    "DEADLINE",
    "REVOKED",
    "SPECIAL_EXIT",
}
QUERY_TIMEOUT_S = 30


@dataclass(frozen=True)
class JobState:
    """A job's state (None: SLURM no longer knows it) and why, as SLURM said it."""

    state: str | None
    reason: str

    @property
    def ended(self) -> bool:
        return self.state is None or self.state in ENDED


def job_state(job_id: str) -> JobState:
    """`job_id`'s state from scontrol, else from sacct; JobState(None, why) when neither knows
    it (or accounting is off and the controller has forgotten the job)."""
    shown = _run(["scontrol", "show", "job", "--oneliner", job_id])
    if shown is not None and "JobState=" in shown:
        fields = dict(item.split("=", 1) for item in shown.split() if "=" in item)
        reason = f"Reason={fields.get('Reason', '?')}, ExitCode={fields.get('ExitCode', '?')}"
        return JobState(fields["JobState"], reason)
    accounted = _run(
        [
            "sacct",
            "--noheader",
            "--parsable2",
            "--jobs",
            job_id,
            "--format",
            "State,ExitCode,Reason",
        ]
    )
    if accounted:
        state, exit_code, reason = (accounted.splitlines()[0].split("|") + ["", ""])[:3]
        return JobState(
            state.split()[0], f"Reason={reason or '?'}, ExitCode={exit_code or '?'} (sacct)"
        )
    return JobState(None, "no longer known to scontrol, and sacct has no record of it")


def wait_for_result(
    job_id: str,
    result: Path,
    poll_s: float,
    grace_s: float,
    state_of: Callable[[str], JobState] = job_state,
    sleep: Callable[[float], None] = time.sleep,
) -> JobState | None:
    """Wait until `result` exists (None) or the job has ended without it for `grace_s`
    (its last JobState). Asks SLURM every `poll_s`: a job that ends is noticed within
    poll_s + grace_s (plus the queries' own time)."""
    ended_for = 0.0
    while True:
        if result.exists():
            return None
        state = state_of(job_id)
        if not state.ended:
            ended_for = 0.0
        elif ended_for >= grace_s:
            return None if result.exists() else state
        else:
            ended_for += poll_s
        sleep(poll_s)


def _run(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=QUERY_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
