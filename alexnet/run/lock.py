"""One owner per run dir: a second run started in a folder that a live run is using is refused
with one line, before it writes anything of its own there.

The lock is a POSIX record lock (``lockf``) on ``<run dir>/.run.lock``: the kernel drops it when
its owner dies, however it dies (kill -9 included), so a dead owner's lock is never in the way
(the stale-lock rule), and forked children (loader workers) do not inherit it. The file says who
holds it (pid, host, start time) for the refusal's message.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

from alexnet.errors import InvalidValue

LOCK_FILE = ".run.lock"
_held: dict[Path, int] = {}  # run dir -> descriptor, for as long as this process lives


class RunDirBusy(InvalidValue):
    """Another live run holds the folder: nothing of it may be removed."""


def lock_run_dir(run_dir: Path, key: str = "hydra.run.dir") -> None:
    """Take `run_dir`'s lock for this process (again: nothing to do); another live owner ->
    InvalidValue naming `key`, the folder and the owner."""
    run_dir = Path(run_dir).resolve()
    if run_dir in _held:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        owner = os.read(handle, 512).decode(errors="replace").strip() or "another process"
        os.close(handle)
        raise RunDirBusy(
            key,
            str(run_dir),
            f"another run is using this folder ({owner}); wait for it to end or choose "
            "another folder",
        ) from None
    os.ftruncate(handle, 0)
    os.write(handle, f"pid {os.getpid()} on {socket.gethostname()}, {time.ctime()}\n".encode())
    _held[run_dir] = handle


def unlock_run_dir(run_dir: Path) -> None:
    """Give `run_dir`'s lock back (the file stays: removing it would race a new owner)."""
    handle = _held.pop(Path(run_dir).resolve(), None)
    if handle is not None:
        os.close(handle)  # closing drops a POSIX lock
