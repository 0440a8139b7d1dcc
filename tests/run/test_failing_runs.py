"""Runs that fail: a diverging run stops, keeps its last good checkpoint and is marked failed; a
failing sweep job or Optuna trial does not stop the others (real processes); bad image files are
skipped with a warning and a count, or stop the run naming the file. The single runs run
train.py's entry point in this process."""

import json
import re
import sys
from pathlib import Path

import torch

from alexnet.cli.main import train_command
from tests.conftest import TINY
from tests.support.train_runs import metrics, run_dirs, train_error


def test_a_diverging_run_stops_keeps_its_checkpoint_and_is_marked_failed(monkeypatch, tmp_path):
    error = train_error(
        monkeypatch,
        tmp_path,
        *TINY,
        "data.train_per_class=16",
        "trainer.max_epochs=3",
        "optimizer=sgd",
        "optimizer.lr=100",
        "checkpoint_every_n_steps=2",
        "logger=csv",
    )
    found = re.search(
        r"error: training diverged: the loss is -?(?:nan|inf) at step (\d+) "
        r"\(epoch 0\)",
        error,
    )
    assert found, error
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
        "optimizer.lr=10000,0.01",  # 10000: NaN within the 4 steps whatever the order
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    jobs = json.loads((sweep / "sweep.json").read_text())
    assert [(j["job"], j["status"]) for j in jobs] == [(0, "failed"), (1, "completed")]
    assert "optimizer.lr=10000" in jobs[0]["overrides"] and "DivergenceError" in jobs[0]["error"]
    assert "| 1 | " in (sweep / "sweep.md").read_text()


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


def test_bad_image_files_are_skipped_with_a_warning_and_a_count(
    monkeypatch, tmp_path, image_folder
):
    fake, truncated = spoil(image_folder)
    monkeypatch.setattr(
        sys,
        "argv",
        ["train.py", *FOLDER_RUN, f"data.root={image_folder}", f"paths.log_dir={tmp_path}"],
    )
    train_command()  # completes: no SystemExit
    (run_dir,) = run_dirs(tmp_path)
    log = (run_dir / "train.log").read_text()
    assert f"Skipped unreadable image {fake}" in log
    assert f"Skipped unreadable image {truncated}" in log and "2 skipped so far" in log
    assert metrics(run_dir)["status"] == "completed"


def test_bad_image_files_can_stop_the_run_naming_the_file(monkeypatch, tmp_path, image_folder):
    bad = spoil(image_folder)
    error = train_error(
        monkeypatch, tmp_path, *FOLDER_RUN, f"data.root={image_folder}", "data.bad_files=fail"
    )
    assert any(f"error: unreadable image {path}: " in error for path in bad)
    assert metrics(run_dirs(tmp_path)[0])["status"] == "failed"
