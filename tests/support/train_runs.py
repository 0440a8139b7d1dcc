"""train.py's runs for the tests under tests/run/: in a real process (for what only a process
shows: its exit status, a kill, a signal) or in this process, writing under a log dir as
train.py does, and the run dirs and records they leave."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alexnet.cli.main import train_command
from alexnet.run.api import train as run_train
from tests.conftest import compose_train


def train(run_script, log_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """train.py with `overrides`, writing under `log_dir`: a process of its own."""
    return run_script("train.py", *overrides, f"paths.log_dir={log_dir}")


def train_here(log_dir: Path, *overrides: str) -> dict:
    """The run of train.py with `overrides`, in this process (the run API, no Hydra job): its
    run dir is log_dir/train/runs/run; returns its record."""
    return run_train(compose_train(*overrides, output_dir=log_dir / "train" / "runs" / "run"))


def command_exit(monkeypatch, *argv: str, command=train_command) -> str | int | None:
    """What the command line `argv` exits with (SystemExit's code), its entry point run in this
    process: a message (printed, exit status 1) or an exit status."""
    monkeypatch.setattr(sys, "argv", list(argv))
    with pytest.raises(SystemExit) as stopped:
        command()
    return stopped.value.code


def train_error(monkeypatch, log_dir: Path, *overrides: str) -> str:
    """The one-line message `python train.py <overrides>` (writing under `log_dir`) exits with,
    run in this process; a message means exit status 1 and no traceback."""
    code = command_exit(monkeypatch, "train.py", *overrides, f"paths.log_dir={log_dir}")
    assert isinstance(code, str), code
    return code


def run_dirs(log_dir: Path) -> list[Path]:
    return sorted(log_dir.glob("train/runs/*"))


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())
