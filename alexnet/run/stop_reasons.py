"""Why a run stopped, read from what was raised: the record's status word, its one line for the
command line and the process's exit code.

    completed    the run finished (not an error: alexnet/run/outcome.py)
    interrupted  SIGINT (Ctrl-C)                                           exit 130
    terminated   SIGTERM                                                   exit 143
    requeued     SLURM's warning signal: the job comes back (launch/requeue.py)
    no_space     a write found the disk full                               exit 1
    failed       anything else; out of memory gets one line with a hint    exit 1
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig

STATUSES = ("running", "completed", "interrupted", "terminated", "requeued", "no_space", "failed")


class RunStopped(Exception):
    """The run stopped for a reason the command line reports as one line (its record says it)."""

    def __init__(self, status: str, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.status, self.exit_code = status, exit_code


@dataclass
class StopReason:
    status: str
    line: str  # what the record's ``error`` and the command line say
    exit_code: int
    one_line: bool  # False: a bug or an unknown failure, whose traceback is worth showing


def stop_reason(err: BaseException, cfg: DictConfig | None, run_dir: Path | None) -> StopReason:
    """The status, line and exit code of a run that raised `err`."""
    if _interrupted(err):
        return StopReason("interrupted", "interrupted by SIGINT (Ctrl-C)", 130, True)
    if isinstance(err, SIGTERMException):
        return StopReason("terminated", "terminated by SIGTERM", 143, True)
    full = no_space(err)
    if full is not None:
        return StopReason("no_space", no_space_line(full, run_dir), 1, True)
    memory = out_of_memory(err)
    if memory is not None:
        return StopReason("failed", out_of_memory_line(memory, cfg), 1, True)
    return StopReason("failed", f"{type(err).__name__}: {err}", 1, False)


def chain(err: BaseException) -> Iterator[BaseException]:
    """`err` and the exceptions it was raised from or during, each once."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _interrupted(err: BaseException) -> bool:
    """Ctrl-C: a KeyboardInterrupt, or the SystemExit Lightning raises after handling one."""
    return any(isinstance(e, KeyboardInterrupt) for e in chain(err))


def no_space(err: BaseException) -> OSError | None:
    """The 'no space left on device' error behind `err`, if that is what it is."""
    for cause in chain(err):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return cause
    return None


def no_space_line(err: OSError, run_dir: Path | None) -> str:
    where = f" writing {err.filename}" if err.filename else ""
    free = ""
    if run_dir is not None and run_dir.exists():
        free = f" ({shutil.disk_usage(run_dir).free / 2**20:.0f} MiB free there now)"
    resume = f"; free some space and resume with ckpt_path={run_dir}" if run_dir else ""
    return f"no space left on device{where}{free}{resume}"


def out_of_memory(err: BaseException) -> BaseException | None:
    """The allocation failure behind `err` (host or device memory), if that is what it is."""
    for cause in chain(err):
        if isinstance(cause, (MemoryError, torch.OutOfMemoryError)):
            return cause
        text = str(cause).lower()
        if isinstance(cause, RuntimeError) and (
            "can't allocate memory" in text or "out of memory" in text
        ):
            return cause
    return None


def out_of_memory_line(err: BaseException, cfg: DictConfig | None) -> str:
    first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
    data = cfg.get("data") if cfg is not None else None
    size = ""
    if data is not None:
        size = f" with data.batch_size={data.get('batch_size')} and "
        size += f"data.image_size={data.get('image_size')}"
    return (
        f"out of memory{size} ({type(err).__name__}: {first}); lower data.batch_size "
        "(or data.image_size, or use a smaller model)"
    )
