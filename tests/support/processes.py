"""`python <script> ...` for the tests: a plain process started from scratch, in a session of
its own, its output captured; past its timeout it is killed with everything it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

KILL_WAIT_S = 10.0  # for the streams of a child killed past its timeout

# A fresh `python` as a terminal starts it: SIGINT and SIGTERM unblocked (a signal mask passes
# through exec, and a test worker may have them blocked while a library starts a helper), then
# the command itself, by exec: the same process, exactly `python <args>`.
FRESH_SIGNALS = (
    "import os, signal, sys; "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM}); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def run_python(root: Path, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """`python <args>` in `root`, as subprocess.run(..., capture_output=True, text=True,
    timeout=timeout) would run it, in a session of its own (a timeout kills its whole group)."""
    command = [sys.executable, *args]
    process = subprocess.Popen(
        [sys.executable, "-c", FRESH_SIGNALS, *args],  # then exactly `command`
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=KILL_WAIT_S)
        raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)
