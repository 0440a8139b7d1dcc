"""Crash safety, resume, reproducibility, divergence and failing sweep jobs: in real processes,
but for the checkpoint errors of the entry points, run in this process."""

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from alexnet.checkpoints import AtomicCheckpointIO
from alexnet.cli import train_command
from alexnet.run import train as run_train
from tests.conftest import TINY, compose_train

# 48 training images in batches of 4: 12 steps an epoch; a step checkpoint every 5 steps.
RESUMABLE = [
    *TINY,
    "data.train_per_class=16",
    "trainer.max_epochs=2",
    "trainer.deterministic=true",
    "checkpoint_every_n_steps=5",
    "test=false",
    "logger=csv",
    "callbacks.progress_bar.refresh_rate=0",
]


def train(run_script, log_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """train.py with `overrides`, writing under `log_dir`."""
    return run_script("train.py", *overrides, f"paths.log_dir={log_dir}")


def run_dirs(log_dir: Path) -> list[Path]:
    return sorted(log_dir.glob("train/runs/*"))


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2])  # 2: the default, persistent loader workers
def test_kill_9_mid_epoch_then_resume_ends_like_an_uninterrupted_run(run_script, tmp_path, workers):
    # Compared bit for bit: all three runs are train.py processes started the same way, with
    # this process's environment (so the same thread count and the same CPU kernels), the same
    # seed and deterministic=true; the checkpoint restores weights, optimizer, RNG and running
    # sums exactly, so the resumed run repeats the same float operations in the same order.
    run = [*RESUMABLE, f"data.num_workers={workers}", "trainer.max_epochs=3"]
    whole = train(run_script, tmp_path / "whole", *run)
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = metrics(run_dirs(tmp_path / "whole")[0])

    killed = train(
        run_script,
        tmp_path / "killed",
        *run,
        "+callbacks.kill._target_=tests.killer.KillAtStep",
        "+callbacks.kill.step=7",
    )
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = run_dirs(tmp_path / "killed")
    assert not (run_dir / "metrics.json").exists()
    assert [p.name for p in (run_dir / "checkpoints").glob("*.ckpt")] == ["step_0000005.ckpt"]

    resumed = train(run_script, tmp_path / "resumed", *run, f"ckpt_path={run_dir}")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = metrics(run_dirs(tmp_path / "resumed")[0])
    assert result["resumed_from"].endswith("step_0000005.ckpt")
    assert result["global_step"] == expected["global_step"] == 36
    assert result["metrics"] == expected["metrics"]  # identical, to the last digit
    for key in ("val/loss", "val/acc1"):  # every epoch, not only the interrupted one
        assert [h[key] for h in result["history"]] == [h[key] for h in expected["history"]]
    # The training averages of every epoch, the interrupted one too: the checkpoint keeps the
    # running sums of the steps before it.
    for key in ("train/loss", "train/acc1"):
        assert [h[key] for h in result["history"]] == [h[key] for h in expected["history"]]


@pytest.mark.slow
def test_same_seed_same_metrics(run_script, tmp_path):
    runs = [
        train(run_script, tmp_path / name, *RESUMABLE, "trainer.max_epochs=1")
        for name in ("a", "b")
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    first, second = (metrics(run_dirs(tmp_path / name)[0]) for name in ("a", "b"))
    # Bit for bit: both are train.py processes started the same way, with this process's
    # environment (the same thread count and CPU kernels), the same seed, deterministic=true.
    assert first["metrics"] == second["metrics"] and first["metrics"]["train/loss"] > 0
    other = train(run_script, tmp_path / "c", *RESUMABLE, "trainer.max_epochs=1", "seed=1")
    assert other.returncode == 0, other.stderr[-2000:]
    # Another seed draws other images and weights: the losses differ by far more than rounding
    # (a float32 mean of this size moves by about 1e-6; the record keeps 6 decimals).
    changed = metrics(run_dirs(tmp_path / "c")[0])["metrics"]
    assert abs(changed["train/loss"] - first["metrics"]["train/loss"]) > 1e-4
    assert abs(changed["val/loss"] - first["metrics"]["val/loss"]) > 1e-4


def test_a_diverging_run_stops_keeps_its_checkpoint_and_is_marked_failed(run_script, tmp_path):
    result = train(
        run_script,
        tmp_path,
        *TINY,
        "data.train_per_class=16",
        "trainer.max_epochs=3",
        "optimizer=sgd",
        "optimizer.lr=100",
        "checkpoint_every_n_steps=2",
        "logger=csv",
    )
    assert result.returncode != 0
    found = re.search(
        r"error: training diverged: the loss is -?(?:nan|inf) at step (\d+) "
        r"\(epoch 0\)",
        result.stderr,
    )
    assert found, result.stderr[-2000:]
    step = int(found.group(1))
    (run_dir,) = run_dirs(tmp_path)
    record = metrics(run_dir)
    assert record["status"] == "failed" and "DivergenceError" in record["error"]
    assert record["global_step"] == step  # stopped before the bad step's update
    kept = record["last_good_checkpoint"]
    assert kept.endswith(f"step_{step - step % 2:07d}.ckpt") and Path(kept).is_file()
    weights = torch.load(kept, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.isfinite(w).all() for w in weights.values() if w.is_floating_point())


def test_a_failing_job_does_not_stop_the_sweep(run_script, tmp_path):
    result = run_script(
        "train.py",
        "-m",
        *TINY,
        "debug=limit",
        "trainer.max_epochs=1",
        "logger=csv",
        "optimizer=sgd",
        "optimizer.lr=100,0.01",
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    jobs = json.loads((sweep / "sweep.json").read_text())
    assert [(j["job"], j["status"]) for j in jobs] == [(0, "failed"), (1, "completed")]
    assert "optimizer.lr=100" in jobs[0]["overrides"] and "DivergenceError" in jobs[0]["error"]
    assert "| 1 | " in (sweep / "sweep.md").read_text()


def test_an_interrupted_save_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}}, path)

    def dies_half_way(obj, handle):
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt  # the process is stopped in the middle of writing

    monkeypatch.setattr(torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}}, path)
    monkeypatch.undo()
    # exact: the saved tensor read back, bit for bit
    assert torch.load(path, weights_only=True)["state_dict"]["w"].tolist() == [1.0, 1.0, 1.0]


def test_a_failing_optuna_trial_is_marked_failed_and_the_study_goes_on(run_script, tmp_path):
    result = run_script(
        "train.py",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.n_startup_trials=3",
        "hydra.sweeper.params={optimizer.lr: 'choice(1000.0, 0.01)', activation: 'choice(relu)', "
        "dropout.p: 'choice(0.0)'}",
        *TINY,
        "debug=limit",
        "trainer.max_epochs=1",
        "logger=csv",
        "optimizer=sgd",
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Failed experiment" in result.stdout + result.stderr  # Optuna's TrialState.FAIL
    (sweep,) = tmp_path.glob("train/multiruns/*")
    jobs = json.loads((sweep / "sweep.json").read_text())
    assert len(jobs) == 3
    statuses = {j["overrides"].split()[0]: j["status"] for j in jobs}
    assert statuses == {"optimizer.lr=1000.0": "failed", "optimizer.lr=0.01": "completed"}
    best = (sweep / "optimization_results.yaml").read_text()
    assert "optimizer.lr: 0.01" in best


def spoil(image_folder: Path) -> tuple[Path, Path]:
    """Put a non-image file named .jpg and a truncated JPEG into the training classes."""
    fake = image_folder / "train" / "class0" / "notes.jpg"
    fake.write_text("this is not an image")
    good = next((image_folder / "train" / "class1").glob("*.jpg")).read_bytes()
    truncated = image_folder / "train" / "class1" / "cut.jpg"
    truncated.write_bytes(good[: len(good) // 2])
    return fake, truncated


FOLDER_RUN = [
    "model=mini",
    "trainer=cpu",
    "data=imagefolder",
    "data.image_size=64",
    "data.batch_size=4",
    "data.num_workers=0",
    "trainer.max_epochs=1",
    "logger=csv",
    "callbacks.progress_bar.refresh_rate=0",
]


def test_bad_image_files_are_skipped_with_a_warning_and_a_count(run_script, tmp_path, image_folder):
    fake, truncated = spoil(image_folder)
    result = train(run_script, tmp_path, *FOLDER_RUN, f"data.root={image_folder}")
    assert result.returncode == 0, result.stderr[-2000:]
    (run_dir,) = run_dirs(tmp_path)
    log = (run_dir / "train.log").read_text()
    assert f"Skipped unreadable image {fake}" in log
    assert f"Skipped unreadable image {truncated}" in log and "2 skipped so far" in log
    assert metrics(run_dir)["status"] == "completed"


def test_bad_image_files_can_stop_the_run_naming_the_file(run_script, tmp_path, image_folder):
    bad = spoil(image_folder)
    result = train(
        run_script, tmp_path, *FOLDER_RUN, f"data.root={image_folder}", "data.bad_files=fail"
    )
    assert result.returncode != 0
    assert any(f"error: unreadable image {path}: " in result.stderr for path in bad)
    assert metrics(run_dirs(tmp_path)[0])["status"] == "failed"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "run"
    run_train(
        compose_train(
            *TINY, "debug=limit", "trainer.max_epochs=1", "logger=csv", "test=false", output_dir=out
        )
    )
    return (out / "checkpoints" / "last.ckpt").resolve()


def command_error(monkeypatch, command, *argv: str) -> str:
    """The one-line message an entry point exits with, run in this process."""
    monkeypatch.setattr(sys, "argv", list(argv))
    with pytest.raises(SystemExit) as stopped:
        command()
    assert isinstance(stopped.value.code, str), stopped.value.code  # a message: exit status 1
    return stopped.value.code


def test_a_truncated_checkpoint_gets_a_clear_error(run_script, tmp_path, checkpoint, monkeypatch):
    cut = tmp_path / "cut.ckpt"
    data = checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    expected = (
        f"error: ckpt_path='{cut}' is not valid; it is not a readable checkpoint: "
        "truncated, corrupt or not a Lightning checkpoint"
    )
    result = run_script("eval.py", f"ckpt_path={cut}", f"paths.log_dir={tmp_path}")  # a process
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(expected)
    assert command_error(
        monkeypatch,
        train_command,
        "train.py",
        *TINY,
        f"ckpt_path={cut}",
        f"paths.log_dir={tmp_path}",
    ).startswith(expected)
    assert not list(tmp_path.glob("*/runs/*"))


class Payload:
    """Stands for code a tampered checkpoint would run when unpickled."""


def test_a_tampered_checkpoint_is_refused_by_weights_only_loading(
    tmp_path, checkpoint, monkeypatch
):
    tampered = tmp_path / "tampered.ckpt"
    content = torch.load(checkpoint, map_location="cpu", weights_only=True)
    content["payload"] = Payload()
    torch.save(content, tampered)
    error = command_error(
        monkeypatch,
        train_command,
        "train.py",
        *TINY,
        f"ckpt_path={tampered}",
        f"paths.log_dir={tmp_path}",
    )
    assert "it is not a readable checkpoint" in error and "Payload" in error


def test_resume_takes_the_newest_checkpoint_of_a_run_dir(run_script, tmp_path, checkpoint):
    run_dir = checkpoint.parent.parent
    result = train(
        run_script,
        tmp_path,
        *TINY,
        "debug=limit",
        "trainer.max_epochs=2",
        "logger=csv",
        "test=false",
        f"ckpt_path={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    record = metrics(run_dirs(tmp_path)[0])
    assert (
        record["resumed_from"] == str(checkpoint.parent / "last.ckpt")
        or Path(record["resumed_from"]).resolve() == checkpoint
    )
    assert record["epochs"] == 2
