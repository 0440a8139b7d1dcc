"""Checkpoint files given to the entry points: a truncated or tampered one is refused with a clear
error (in a process, and run in this process), and a run dir resumes from its newest checkpoint."""

import sys
from pathlib import Path

import pytest
import torch

from alexnet.cli.main import train_command
from alexnet.run.api import train as run_train
from tests.conftest import TINY, compose_train
from tests.support.train_runs import metrics, run_dirs, train_here


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


def test_resume_takes_the_newest_checkpoint_of_a_run_dir(tmp_path, checkpoint):
    run_dir = checkpoint.parent.parent
    train_here(
        tmp_path,
        *TINY,
        "debug=limit",
        "trainer.max_epochs=2",
        "logger=csv",
        "test=false",
        f"ckpt_path={run_dir}",
    )
    record = metrics(run_dirs(tmp_path)[0])
    assert (
        record["resumed_from"] == str(checkpoint.parent / "last.ckpt")
        or Path(record["resumed_from"]).resolve() == checkpoint
    )
    assert record["epochs"] == 2


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (torch.zeros(3), "it holds Tensor, not a Lightning checkpoint"),
        ({"features.0.weight": torch.zeros(2)}, "it holds a bare state_dict"),
        ({"state_dict": {"w": torch.zeros(2)}}, "it holds a state_dict saved outside Lightning"),
    ],
)
def test_a_torch_file_that_is_no_checkpoint_is_one_line(monkeypatch, tmp_path, content, says):
    path = tmp_path / "weights.pt"
    torch.save(content, path)
    logs = f"paths.log_dir={tmp_path / 'logs'}"
    line = command_error(monkeypatch, train_command, "train.py", *TINY, f"ckpt_path={path}", logs)
    assert line.startswith(f"error: ckpt_path='{path}' is not valid; {says}")
    assert "model.weights=PATH" in line and not run_dirs(tmp_path / "logs")


def test_a_run_dir_without_our_checkpoint_callbacks_resolves_to_lightnings_own(tmp_path):
    from alexnet.run.checkpoints import resolve_checkpoint

    # callbacks=none: Lightning's default checkpoint, under the logger's version dir.
    folder = tmp_path / "run" / "tensorboard" / "seed=0" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "epoch=1-step=6.ckpt").write_bytes(b"")
    assert resolve_checkpoint(tmp_path / "run") == folder / "epoch=1-step=6.ckpt"
    ours = tmp_path / "run" / "checkpoints"  # ours, when there: they come first
    ours.mkdir()
    (ours / "last.ckpt").write_bytes(b"")
    assert resolve_checkpoint(tmp_path / "run") == ours / "last.ckpt"
