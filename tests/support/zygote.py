"""A process that imports torch, Lightning, Hydra and the lab once, then forks a fresh child
for each `python <script> ...` a test starts: the child is that command (its own session,
argv, cwd, environment, stdout and stderr files, exit status), without its ~5 s of imports.

Protocol (one JSON object a line): on stdin {"argv": [...], "cwd", "env", "out", "err",
"status"}; on stdout {"pid"} once the child exists. The exit status, as subprocess reports it
(negative: the signal that ended it), is written to the "status" file when the child ends.

Nothing here starts a thread pool before the fork: a child sets its threads as a fresh process
does, from its environment (OMP_NUM_THREADS) and torch's defaults.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import threading
from pathlib import Path


def _child(request: dict) -> None:
    """Become `python <argv...>` (never returns: raises SystemExit like that process would)."""
    os.setsid()  # its own process group: a timeout kills it with what it started
    fresh_signals()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    stdin = os.open(os.devnull, os.O_RDONLY)
    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    for fd, target in ((stdin, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    argv = request["argv"]
    if argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        sys.path[0] = request["cwd"]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        script = str(Path(request["cwd"], argv[0]))
        sys.argv = [script, *argv[1:]]
        sys.path[0] = str(Path(script).parent)
        runpy.run_path(script, run_name="__main__")
    sys.exit(0)


def fresh_signals() -> None:
    """SIGINT and SIGTERM as a fresh `python` from a terminal has them: unblocked, Ctrl-C a
    KeyboardInterrupt. A signal mask is inherited through fork and exec, and the test worker that
    started the zygote may have had SIGINT blocked at that moment (a library spawning its helper
    process blocks it for a while): its children then never saw a Ctrl-C."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _report(pid: int, status_path: str) -> None:
    """Wait for child `pid` and write its exit status as subprocess reports it."""
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    tmp = status_path + ".tmp"
    Path(tmp).write_text(str(code))
    os.replace(tmp, status_path)


def main() -> None:
    fresh_signals()
    import alexnet.cli.main  # noqa: F401 - what train.py and eval.py import, and no more

    replies = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        threading.Thread(target=_report, args=(pid, request["status"]), daemon=True).start()
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
