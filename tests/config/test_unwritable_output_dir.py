"""An output folder that cannot be created (on a read-only filesystem such as /sys or /proc,
where even root cannot write; under a file) stops the command with one line naming the key the
user set, before Hydra tries to make it; a folder that can be created is not made by the check."""

from __future__ import annotations

import os

import pytest

from alexnet.config.overrides_check import check_command_line
from alexnet.errors import InvalidValue

TINY = ["model=mini", "trainer=cpu", "logger=none"]
SYS = os.strerror(1)  # Operation not permitted: /sys refuses a new folder, even to root
PROC = os.strerror(2)  # No such file or directory: /proc has no room for one


@pytest.mark.parametrize(
    ("override", "line"),
    [
        (
            "hydra.run.dir=/proc/nope/run",
            f"hydra.run.dir='/proc/nope/run' is not valid; cannot create it: {PROC} (in /proc)",
        ),
        (
            "paths.log_dir=/sys/kernel/nope",
            f"paths.log_dir='/sys/kernel/nope' is not valid; cannot create it: {SYS} "
            "(in /sys/kernel)",
        ),
    ],
)
def test_an_output_dir_on_a_read_only_filesystem_is_one_line(run_script, override, line):
    result = run_script("train.py", *TINY, override)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {line}"]
    assert "Traceback" not in result.stderr + result.stdout


def test_a_sweep_dir_that_cannot_be_made_is_one_line():
    with pytest.raises(InvalidValue) as refused:
        check_command_line(["-m", "seed=1,2", "hydra.sweep.dir=/sys/nope/sweep"], "train")
    assert str(refused.value) == (
        f"hydra.sweep.dir='/sys/nope/sweep' is not valid; cannot create it: {SYS} (in /sys)"
    )


def test_a_log_dir_under_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InvalidValue) as refused:
        check_command_line([f"paths.log_dir={tmp_path / 'file' / 'logs'}"], "eval")
    assert str(refused.value) == (
        f"paths.log_dir='{tmp_path / 'file' / 'logs'}' is not valid; cannot create it: "
        f"{tmp_path / 'file'} is not a folder"
    )


def test_the_default_run_dir_is_named_when_the_working_dir_is_read_only(monkeypatch):
    monkeypatch.chdir("/sys/kernel")
    with pytest.raises(InvalidValue, match=r"^hydra.run.dir='/sys/kernel/logs/train/runs/.*' is"):
        check_command_line([], "train")


def test_a_folder_that_can_be_made_is_left_unmade(tmp_path):
    check_command_line([f"hydra.run.dir={tmp_path / 'a' / 'b'}"], "train")
    check_command_line(["-m", f"paths.log_dir={tmp_path / 'c'}", "seed=1,2"], "train")
    assert list(tmp_path.iterdir()) == []
