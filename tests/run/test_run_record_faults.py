"""Nothing lost, nothing misleading: metrics.json holds every epoch and says why the run ended
(completed, interrupted, terminated, no_space, failed), one run owns its folder, and a dead
process's step checkpoints go by the retention rule. What only a process shows (a signal, a
kill -9, a full disk, two runs at once) runs in real processes; the rest in this process."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alexnet.run.api import train as run_train
from tests.conftest import ROOT, TINY, compose_train
from tests.support.train_runs import (
    command_exit,
    metrics,
    run_dirs,
    train,
    train_error,
    train_here,
)

SMALL = [
    *TINY,
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "logger=csv",
]


def test_the_history_keeps_the_epochs_after_the_best_one(tmp_path):
    # A learning rate too small to change anything: every epoch ties, the best stays epoch 0,
    # and testing it (which restores every callback from it) must not cut the history there.
    # The training probe's entries, kept in checkpoints the same way, must not be cut either.
    train_here(
        tmp_path,
        *SMALL,
        "trainer.max_epochs=3",
        "optimizer.lr=1e-30",
        "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
        "+callbacks.training_probe.every_n_steps=3",
        "+callbacks.training_probe.images=6",
    )
    record = metrics(run_dirs(tmp_path)[0])
    assert record["best_checkpoint"].endswith("epoch_000.ckpt")
    assert record["epochs"] == 3 and [h["epoch"] for h in record["history"]] == [0, 1, 2]
    assert [entry["step"] for entry in record["probe"]][-2:] == [6, 9]


@pytest.mark.parametrize(
    ("signum", "status", "code"),
    [(signal.SIGINT, "interrupted", 130), (signal.SIGTERM, "terminated", 143)],
)
def test_a_signal_is_recorded_as_what_it_is(run_script, tmp_path, signum, status, code):
    result = train(
        run_script,
        tmp_path,
        *SMALL,
        "trainer.max_epochs=3",
        "+callbacks.kill._target_=tests.support.killer.KillAtStep",
        "+callbacks.kill.step=4",
        f"+callbacks.kill.signum={int(signum)}",
    )
    assert result.returncode == code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {status} by SIG")
    record = metrics(run_dirs(tmp_path)[0])
    assert record["status"] == status and record["last_good_checkpoint"]
    assert [h["epoch"] for h in record["history"]] == [0]


def test_out_of_memory_in_training_is_one_line_naming_the_batch(monkeypatch, capsys, tmp_path):
    code = command_exit(  # train.py's entry point, in this process
        monkeypatch,
        "train.py",
        *SMALL,
        "+callbacks.hog._target_=tests.support.killer.AllocateAtStep",
        "+callbacks.hog.step=4",
        f"paths.log_dir={tmp_path}",
    )
    stderr = capsys.readouterr().err
    assert code == 1 and "Traceback" not in stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("error: out of memory with data.batch_size=4 and data.image_size=64")
    assert "lower data.batch_size" in line
    assert metrics(run_dirs(tmp_path)[0])["status"] == "failed"


def test_out_of_memory_while_building_is_one_line(monkeypatch, tmp_path):
    # A message (exit status 1, no traceback): 9e12 floats for fc6, refused at once.
    error = train_error(monkeypatch, tmp_path, *SMALL, "model.hidden=4000000000")
    assert error.startswith("error: out of memory")
    assert not run_dirs(tmp_path)


def test_a_second_run_in_a_live_runs_folder_is_refused(run_script, tmp_path):
    folder = tmp_path / "shared run"
    output = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(
        [
            sys.executable,
            "train.py",
            *SMALL,
            "trainer.max_epochs=5",
            f"hydra.run.dir={folder}",
            # 2 s asleep after each of its 15 steps: alive while the second starts from scratch
            "+callbacks.sleep._target_=tests.support.slow_steps.SleepEachStep",
            "+callbacks.sleep.seconds=2",
        ],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (folder / "checkpoints").is_dir():  # the first run is training
            assert first.poll() is None and time.monotonic() < deadline, "no first run"
            time.sleep(0.2)
        second = run_script("train.py", *SMALL, "seed=7", f"hydra.run.dir={folder}")
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert "another run is using this folder (pid" in second.stderr.strip().splitlines()[-1]
        assert first.wait(timeout=300) == 0, (tmp_path / "first.log").read_text()[-2000:]
    finally:
        first.kill()
        first.wait(timeout=60)
        output.close()
    # The folder's name has a space: the command printed for it is quoted for a shell.
    assert f"tensorboard --logdir '{folder}'" in (tmp_path / "first.log").read_text()
    record = metrics(folder)
    assert record["status"] == "completed" and "seed=7" not in record["overrides"]
    assert "seed=7" not in (folder / ".hydra" / "overrides.yaml").read_text()
    assert "seed: 7" not in (folder / "config.yaml").read_text()


def test_a_dead_owners_folder_resumes_and_its_step_checkpoints_are_pruned(run_script, tmp_path):
    folder = tmp_path / "run"
    settings = [*SMALL, "trainer.max_epochs=4", "checkpoint_every_n_steps=2"]
    run = [*settings, f"hydra.run.dir={folder}"]
    for step in (5, 9):  # two kill -9s: each leaves its newest step checkpoint behind
        killed = run_script(
            "train.py",
            *run,
            *([f"ckpt_path={folder}"] if step == 9 else []),
            "+callbacks.kill._target_=tests.support.killer.KillAtStep",
            f"+callbacks.kill.step={step}",
        )
        assert killed.returncode == -signal.SIGKILL
    # In this process: the lock died with them.
    run_train(compose_train(*settings, f"ckpt_path={folder}", output_dir=folder))
    steps = sorted(p.name for p in (folder / "checkpoints").glob("step_*.ckpt"))
    assert steps == ["step_0000012.ckpt"]
    assert not list(folder.rglob("*.partial")) and metrics(folder)["status"] == "completed"


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux's unshare")
def test_a_full_disk_is_recorded_and_resumes(run_script, tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    # A 75 MiB filesystem of the test's own (a user namespace: no root needed): two 30 MB
    # checkpoints fit, the third does not.
    args = " ".join([*SMALL, "trainer.max_epochs=3", f"hydra.run.dir={mount}/run"])
    script = (
        f"mount -t tmpfs -o size=75m none {mount} && {sys.executable} train.py {args}; "
        f"cp -r {mount}/run {tmp_path}/kept"
    )
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces are off here: {probe.stderr.decode().strip()}")
    full = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    kept = tmp_path / "kept"
    assert "Traceback" not in full.stderr and "Logging error" not in full.stderr
    assert "error: no space left on device writing" in full.stderr
    record = json.loads((kept / "metrics.json").read_text())
    assert record["status"] == "no_space" and record["history"]
    assert not list(kept.rglob("*.partial")) and not (kept / ".metrics.reserve").exists()
    run_train(compose_train(f"ckpt_path={kept}", output_dir=tmp_path / "resumed"))
    assert metrics(Path(tmp_path / "resumed"))["epochs"] == 3


def test_a_launcher_marks_a_dead_job_failed_unless_it_said_why_itself(tmp_path):
    from alexnet.record import failed, mark_failed, read_record, write_record

    mark_failed(tmp_path / "gone", "SLURM job 7 died without a result: node failure")
    assert read_record(tmp_path / "gone")["status"] == "failed"
    (tmp_path / "own").mkdir()
    (tmp_path / "ran").mkdir()
    write_record(tmp_path / "own", {**failed("ValueError: bad", ["seed=1"]), "metrics": {"a": 1}})
    mark_failed(tmp_path / "own", "SLURM job 8 died")  # the job's own reason stays
    assert read_record(tmp_path / "own")["error"] == "ValueError: bad"
    write_record(tmp_path / "ran", {"status": "running", "history": [{"epoch": 0}]})
    mark_failed(tmp_path / "ran", "SLURM job 9 died")  # what it wrote is kept beside the error
    record = read_record(tmp_path / "ran")
    assert record["status"] == "failed" and record["history"] == [{"epoch": 0}]
