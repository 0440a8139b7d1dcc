"""The tests' `python <script>` runs (tests/support/processes.py) report what the process did: its
exit status, its streams, its arguments and environment; past its timeout it is killed with what
it started."""

import subprocess
import time

import pytest

from tests.conftest import ROOT
from tests.support.processes import run_python


def script(tmp_path, body: str) -> str:
    path = tmp_path / "child.py"
    path.write_text(body)
    return str(path)


def test_a_run_reports_its_exit_streams_argv_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_FORK_PROBE", "seen")
    body = (
        "import os, sys\n"
        "print(sys.argv[1:], os.getcwd(), os.environ['ALEXNET_FORK_PROBE'])\n"
        "sys.exit('error: one line')\n"
    )
    done = run_python(ROOT, [script(tmp_path, body), "a=1", "b=2"], timeout=60)
    assert done.returncode == 1 and done.stderr == "error: one line\n"
    assert done.stdout == f"['a=1', 'b=2'] {ROOT} seen\n"
    killed = run_python(
        ROOT, [script(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")], 60
    )
    assert killed.returncode == -9


def test_a_run_past_its_timeout_is_killed_with_what_it_started(tmp_path):
    marker = tmp_path / "grandchild.pid"
    body = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_python(ROOT, [script(tmp_path, body)], timeout=5)
    assert time.monotonic() - started < 20
    grandchild = int(marker.read_text())
    for _ in range(100):  # killed with its session; reaped by init soon after
        try:
            with open(f"/proc/{grandchild}/stat") as stat:
                if stat.read().split()[2] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the run's child {grandchild} outlived the timeout")
