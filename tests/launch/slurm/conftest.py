"""A running SLURM for the tests. The tests never install or start one by themselves:
`bash scripts/start_slurm.sh` does (as root, with apt-get; `.ci/run` runs it first), or
ALEXNET_START_SLURM=1 asks the tests to run it. Without a cluster the tests skip with the reason
and that command, unless ALEXNET_REQUIRE_SLURM=1 (as in CI), where that is a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

START = ROOT / "scripts" / "start_slurm.sh"


@pytest.fixture(scope="session")
def slurm() -> None:
    reason = _unavailable()
    if reason:
        if os.environ.get("ALEXNET_REQUIRE_SLURM") == "1":
            pytest.fail(f"SLURM is required here (ALEXNET_REQUIRE_SLURM=1) but {reason}")
        pytest.skip(f"no SLURM: {reason}")


def _unavailable() -> str | None:
    if shutil.which("sinfo") and _node_up():
        return None
    if os.environ.get("ALEXNET_START_SLURM") != "1":
        return (
            "sinfo finds no running cluster; start one with `sudo bash scripts/start_slurm.sh` "
            "(installs Debian's slurm-wlm and munge) or let the tests do it with "
            "ALEXNET_START_SLURM=1"
        )
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "ALEXNET_START_SLURM=1, but only root with apt-get can start a cluster here"
    done = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not _node_up():
        return f"{START.name} failed: {(done.stderr or done.stdout).strip()[:300]}"
    return None


def _node_up() -> bool:
    done = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    return done.returncode == 0 and any(
        state.strip("*~#") in ("idle", "mixed", "allocated") for state in done.stdout.split()
    )


class StartRequeuedJobsNow:
    """SLURM holds a requeued job back for about two minutes (reason BeginTime); while running,
    this starts the named jobs that wait for that at once, so that a test does not wait."""

    def __init__(self, name: str) -> None:
        self.name, self.stop, self.started = name, threading.Event(), 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StartRequeuedJobsNow:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(2):
            listed = subprocess.run(
                ["squeue", "-h", "-n", self.name, "-t", "PD", "-o", "%i %r"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            for line in listed.splitlines():
                job, reason = line.split(maxsplit=1)
                if reason.strip() == "BeginTime":
                    subprocess.run(
                        ["scontrol", "update", f"jobid={job}", "StartTime=now"],
                        capture_output=True,
                        timeout=30,
                    )
                    self.started += 1


def slurm_sweep(
    out: Path, name: str, *overrides: str, timeout: int = 600
) -> subprocess.CompletedProcess:
    """`python train.py -m hydra/launcher=slurm ...` into out/sweep; jobs named `name`, polled
    every second unless `overrides` say; the jobs that outlive the deadline are cancelled."""
    command = [
        sys.executable,
        "train.py",
        "-m",
        "hydra/launcher=slurm",
        f"hydra.sweep.dir={out / 'sweep'}",
        f"hydra.launcher.name={name}",
        f"hydra.launcher.submitit_folder={out / 'submitit'}",
        "hydra.launcher.cpus_per_task=1",
        "hydra.launcher.mem_gb=1",
        *overrides,
    ]
    if not any(o.startswith("hydra.launcher.poll_s=") for o in overrides):
        command.append("hydra.launcher.poll_s=1")  # a job's end noticed within 1 s, not 10
    try:
        with StartRequeuedJobsNow(name):
            return subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=timeout
            )
    finally:
        subprocess.run(["scancel", "-n", name], capture_output=True, timeout=30)


def job_records(sweep: Path) -> dict[int, dict]:
    """Each job's metrics.json, by job number."""
    return {
        int(p.parent.name): json.loads(p.read_text())
        for p in sweep.glob("*/metrics.json")
        if p.parent.name.isdigit()
    }


def wait_for(condition, timeout: float, step: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
