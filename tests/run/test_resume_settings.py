"""Resume that matches its promise: `ckpt_path=` rebuilds the run the checkpoint was trained with
(a contradicting setting is one line), a checkpoint from an epoch's end or a kill during
validation resumes into an equal run. The runs are in this process, but the killed one: a real
`python train.py` process, killed with kill -9."""

import signal
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY
from tests.support.train_runs import metrics, run_dirs, train, train_error, train_here

SMALL = [
    *TINY,
    "trainer.limit_train_batches=3",
    "trainer.limit_val_batches=2",
    "trainer.limit_test_batches=2",
    "logger=csv",
]
EXACT = [*SMALL, "trainer.deterministic=true", "trainer.max_epochs=3"]


def test_resuming_a_non_default_run_rebuilds_it_from_the_checkpoint(tmp_path):
    train_here(tmp_path / "a", *SMALL, "trainer.max_epochs=1", "label_smoothing=0.1")
    (run_dir,) = run_dirs(tmp_path / "a")
    # The README's command, with none of the run's settings: mini, 64 px, 3 classes, smoothing.
    train_here(tmp_path / "b", f"ckpt_path={run_dir}", "trainer.max_epochs=2")
    (again,) = run_dirs(tmp_path / "b")
    config = yaml.safe_load((again / "config.yaml").read_text())
    assert config["model"]["preset"] == "mini" and config["label_smoothing"] == 0.1
    assert config["data"]["image_size"] == 64 and config["data"]["num_classes"] == 3
    assert config["trainer"]["limit_train_batches"] == 3  # the run's own, from its config.yaml
    record = metrics(again)
    assert record["status"] == "completed" and [h["epoch"] for h in record["history"]] == [0, 1]


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory) -> Path:
    """A run dir of SMALL trained for two epochs."""
    log_dir = tmp_path_factory.mktemp("two_epochs")
    train_here(log_dir, *SMALL, "trainer.max_epochs=2")
    return run_dirs(log_dir)[0]


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("model=alexnet", "model.preset='alexnet' is not valid; the checkpoint"),
        ("data.image_size=96", "was trained with data.image_size=64"),
        ("optimizer.lr=0.5", "optimizer.lr=0.5 is not valid"),
        ("trainer.max_epochs=1", "trainer.max_epochs=1 is not valid; the checkpoint"),
    ],
)
def test_a_setting_that_contradicts_the_checkpoint_is_one_line(
    monkeypatch, tmp_path, two_epochs, setting, says
):
    refused = train_error(monkeypatch, tmp_path, f"ckpt_path={two_epochs}", setting)
    assert refused.startswith("error: ") and says in refused
    assert not run_dirs(tmp_path)


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """A run dir of EXACT trained for 3 epochs of 3 steps, a step checkpoint every 3 steps (each
    on an epoch's last batch), all of them kept: the uninterrupted run the resumes must equal."""
    log_dir = tmp_path_factory.mktemp("whole")
    run = [*EXACT, "checkpoint_every_n_steps=3", "callbacks.step_checkpoint.save_top_k=-1"]
    train_here(log_dir, *run)
    return run_dirs(log_dir)[0]


def test_a_step_checkpoint_at_an_epochs_end_resumes_into_the_next_epoch(tmp_path, whole):
    # Each step checkpoint is written after that epoch's validation, and a run resumed from it
    # equals the whole run.
    expected = metrics(whole)
    assert [(h["epoch"], h["step"]) for h in expected["history"]] == [(0, 3), (1, 6), (2, 9)]
    for step in (3, 6):
        out = tmp_path / f"from_{step}"
        ckpt = whole / "checkpoints" / f"step_{step:07d}.ckpt"
        train_here(out, f"ckpt_path={ckpt}")
        record = metrics(run_dirs(out)[0])
        timings = ("time_s", "validation_s")  # seconds: never equal twice
        assert [{k: v for k, v in h.items() if k not in timings} for h in record["history"]] == [
            {k: v for k, v in h.items() if k not in timings} for h in expected["history"]
        ]
        assert record["metrics"] == expected["metrics"]


def test_a_kill_during_the_last_validation_resumes_that_validation(run_script, tmp_path, whole):
    expected = metrics(whole)
    killed = train(
        run_script,
        tmp_path / "killed",
        *EXACT,
        "checkpoint_every_n_steps=3",
        "callbacks.step_checkpoint.save_top_k=-1",
        "+callbacks.kill._target_=tests.support.killer.KillInValidation",
        "+callbacks.kill.epoch=2",
    )
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = run_dirs(tmp_path / "killed")
    train_here(tmp_path / "resumed", f"ckpt_path={run_dir}")
    record = metrics(run_dirs(tmp_path / "resumed")[0])
    assert [h["epoch"] for h in record["history"]] == [0, 1, 2]  # epoch 2's validation ran
    assert [h["val/loss"] for h in record["history"]] == [
        h["val/loss"] for h in expected["history"]
    ]
    assert record["metrics"] == expected["metrics"]
