"""SLURM's warning signal at each moment of a job's life, against the running cluster: before
srun has started the task (the batch shell), as the task's python starts, and during validation
(mid-epoch is tests/launch/slurm/test_slurm_launcher.py's time-limit test). Each run must end
completed, with every metric equal to an uninterrupted run's, listed once in sweep.json."""

import json
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.launch.slurm.conftest import job_records, slurm_sweep
from tests.launch.slurm.test_slurm_launcher import TINY

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("slurm")]
# One loader worker: the signal reaches it too (scancel --full), and it must leave the requeue
# to the main process (the single-process time-limit test this replaced had it).
RUN = [
    *TINY,
    "data.num_classes=4",
    "data.train_per_class=25",
    "data.num_workers=1",
    "trainer.max_epochs=2",
    "seed=0",
]
BATCH_SLEEP = "7.25"  # the batch shell's setup sleeps this long before srun starts the task


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("whole")
    done = slurm_sweep(out, "alexnet-whole-ref", *RUN)
    assert done.returncode == 0, done.stderr[-3000:]
    (record,) = job_records(out / "sweep").values()
    assert record["status"] == "completed" and record["requeues"] == 0
    return record


def _command_lines() -> list[bytes]:
    lines = []
    for process in Path("/proc").iterdir():
        try:
            lines.append((process / "cmdline").read_bytes())
        except OSError:  # not a process, or ended meanwhile
            continue
    return lines


def _signal_when(seen: Callable[[], bool], name: str, *scancel: str) -> str:
    """`scancel --signal=USR2 <scancel...> -n name` once `seen()` (this cluster is this machine:
    its processes and files are visible here)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if seen():
            subprocess.run(["scancel", "--signal=USR2", *scancel, "-n", name], timeout=30)
            return "signalled"
        time.sleep(0.1)
    return "never saw the moment"


def _task_python_started(folder: Path) -> Callable[[], bool]:
    def seen() -> bool:  # and half a second more: importing, no handler of its own yet
        if any(
            b"submitit.core._submit" in line and str(folder).encode() in line
            for line in _command_lines()
        ):
            time.sleep(0.5)
            return True
        return False

    return seen


def _batch_shell_sleeping() -> bool:
    return any(line == b"sleep\0" + BATCH_SLEEP.encode() + b"\0" for line in _command_lines())


# moment: (extra overrides, how to tell the moment has come, scancel's target, the log's words)
MOMENTS = {
    # Before, USR2's default action killed the task (exit 140), SLURM marked the job done and
    # the sweep polled for ever. slurm_task.sh keeps the signal from python until its handler
    # is set; the run requeues at its first batch boundary and resumes.
    "as_the_task_starts": (
        [],
        lambda out: _task_python_started(out / "submitit"),
        "--full",
        "arrived while the job was starting",
    ),
    # Only the batch shell exists: it records the signal, the task reads the record.
    "before_srun": (
        [f'hydra.launcher.setup=["sleep {BATCH_SLEEP}"]'],
        lambda out: _batch_shell_sleeping,
        "--batch",
        "arrived while the job was starting",
    ),
    # The first validation waits until the flag is up: the signal lands mid-validation and the
    # run requeues at the next epoch's first batch.
    "during_validation": (
        [
            "+callbacks.probe._target_=tests.support.signal_probe.AwaitSignalInValidation",
            "+callbacks.probe.marker=${hydra:sweep.dir}/../validating",
        ],
        lambda out: (out / "validating").exists,
        "--full",
        "the warning signal arrived during validation",
    ),
}


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_warning_signal_requeues_the_job_and_it_ends_as_uninterrupted(
    moment, uninterrupted, tmp_path
):
    extra, seen, target, words = MOMENTS[moment]
    name = f"alexnet-{moment}"
    with ThreadPoolExecutor(2) as pool:
        signaller = pool.submit(_signal_when, seen(tmp_path), name, target)
        done = slurm_sweep(tmp_path, name, *RUN, *extra)
        assert signaller.result() == "signalled"
    assert done.returncode == 0, done.stderr[-3000:]
    (record,) = job_records(tmp_path / "sweep").values()
    assert record["status"] == "completed" and record["requeues"] >= 1
    assert record["global_step"] == uninterrupted["global_step"]
    assert record["metrics"] == pytest.approx(uninterrupted["metrics"], abs=1e-6)
    sweep = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert [(j["job"], j["status"]) for j in sweep] == [(0, "completed")]  # reported once
    logs = "".join(
        p.read_text()
        for p in [*(tmp_path / "submitit").glob("*_log.*"), *(tmp_path / "sweep").glob("0/*.log")]
    )
    assert words in logs and "and requeued job" in logs
    assert "Traceback" not in logs and "killed by signal" not in logs
    assert not list((tmp_path / "sweep").glob("0/checkpoints/requeue.ckpt"))  # cleaned up
