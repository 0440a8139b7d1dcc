"""`python <script> ...` for the tests, forked from tests/support/zygote.py (imports done once)
instead of started from scratch; ALEXNET_TESTS_FRESH_PROCESSES=1 starts each from scratch instead.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KILL_WAIT_S = 10.0  # for the exit status of a child killed past its timeout
REPLY_WAIT_S = 180.0  # for the zygote to fork a run (its first one waits for its imports)


class Zygote:
    """The zygote of this test process, started on first use, ended with the process."""

    def __init__(self, root: Path) -> None:
        self.root, self.lock, self.process = root, threading.Lock(), None
        self.folder = Path(tempfile.mkdtemp(prefix="alexnet-zygote-"))
        self.count = 0
        atexit.register(self.close)

    def close(self) -> None:
        """End the zygote (it ends on its own too, when this process's end closes its stdin)."""
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=KILL_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _start(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.zygote"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # out of reach of a test's signal to its process group
            )
        return self.process

    def run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess:
        """`python <args>` in the root, as subprocess.run(..., capture_output=True, text=True,
        timeout=timeout) would run it."""
        with self.lock:
            self.count += 1
            base = self.folder / str(self.count)
            files = {name: f"{base}.{name}" for name in ("out", "err", "status")}
            zygote = self._start()
            request = {"argv": args, "cwd": str(self.root), "env": dict(os.environ), **files}
            zygote.stdin.write(json.dumps(request) + "\n")
            zygote.stdin.flush()
            # Its first reply comes after its imports; a zygote that hangs is not waited for.
            ready, _, _ = select.select([zygote.stdout], [], [], REPLY_WAIT_S)
            reply = zygote.stdout.readline() if ready else ""
        if not reply:
            raise RuntimeError(
                "the test zygote (tests/support/zygote.py) did not start a run within "
                f"{REPLY_WAIT_S:.0f} s"
            )
        pid = json.loads(reply)["pid"]
        status = Path(files["status"])
        deadline = time.monotonic() + timeout
        while not status.exists():
            if zygote.poll() is not None and not Path(f"/proc/{pid}").exists():
                raise RuntimeError(f"the test zygote died while running {args[:1]}: no status")
            if time.monotonic() > deadline:
                _kill_session(pid, status)
                raise subprocess.TimeoutExpired([sys.executable, *args], timeout)
            time.sleep(0.05)
        result = subprocess.CompletedProcess(
            [sys.executable, *args],
            int(status.read_text()),
            Path(files["out"]).read_text(errors="replace"),
            Path(files["err"]).read_text(errors="replace"),
        )
        for path in files.values():
            Path(path).unlink(missing_ok=True)
        return result


def _kill_session(pid: int, status: Path) -> None:
    """SIGKILL the child's session (it and what it started); wait a bounded time for its end."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_WAIT_S
    while not status.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


# A fresh `python` as a terminal starts it: SIGINT and SIGTERM unblocked (a mask passes through
# exec; see zygote.fresh_signals), then the command itself, by exec.
FRESH_SIGNALS = (
    "import os, signal, sys; "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM}); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _fresh(root: Path, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """`python <args>` started from scratch, in a session of its own as a forked run is."""
    command = [sys.executable, *args]
    process = subprocess.Popen(
        [sys.executable, "-c", FRESH_SIGNALS, *args],  # then exactly `command`
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=KILL_WAIT_S)
        raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


_zygotes: dict[Path, Zygote] = {}


def run_python(root: Path, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    """`python <args>` in `root`: forked from this process's zygote, or started from scratch."""
    if os.environ.get("ALEXNET_TESTS_FRESH_PROCESSES") == "1":
        return _fresh(root, args, timeout)
    zygote = _zygotes.setdefault(root, Zygote(root))
    return zygote.run(args, timeout)
