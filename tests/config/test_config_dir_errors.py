"""`--config-dir` mistakes are one line: a YAML syntax error names the file, its line and column
and the parser's problem; a file that the lab's own config of the same name would shadow (Hydra
reads the lab's, silently) is refused, with advice that works: a config of another name that
starts from the lab's, picked with --config-name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from alexnet.cli.main import train_command
from alexnet.config.overrides_check import check_command_line
from alexnet.errors import InvalidValue
from tests.support.train_runs import command_exit

TINY = [
    "model=mini",
    "trainer=cpu",
    "data.image_size=64",
    "data.num_workers=0",
    "data.train_per_class=2",
    "data.val_per_class=1",
    "data.test_per_class=1",
    "trainer.max_epochs=1",
    "logger=none",
    "callbacks=none",
    "checkpoint_every_n_steps=0",
]
BROKEN = "defaults:\n  - sgd\n  - _self_\nlr: [0.1\nmomentum: 0.5\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_yaml_syntax_error_is_one_line_naming_file_line_and_problem(run_script, tmp_path):
    broken = write(tmp_path / "conf" / "optimizer" / "broken.yaml", BROKEN)
    result = run_script(
        "train.py",
        "--config-dir",
        str(tmp_path / "conf"),
        "optimizer=broken",
        *TINY,
        f"paths.log_dir={tmp_path / 'logs'}",
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: --config-dir='{tmp_path / 'conf'}' is not valid; a YAML syntax error in "
        f"{broken}, line 5, column 9: expected ',' or ']', but got ':'"
    ]
    assert not (tmp_path / "logs").exists()


def test_a_yaml_syntax_error_in_ones_own_primary_config_is_one_line(tmp_path):
    mine = write(tmp_path / "my_train.yaml", "defaults:\n  - train\n  - _self_\nseed: {1\n")
    with pytest.raises(InvalidValue, match=f"in {mine}, line 5, column 1: "):
        check_command_line(["--config-dir", str(tmp_path), "--config-name", "my_train"], "train")


@pytest.mark.parametrize("command", ["train", "eval", "interpret"])
def test_a_config_named_as_the_commands_own_is_refused_with_what_to_do(tmp_path, command):
    write(tmp_path / f"{command}.yaml", f"defaults:\n  - {command}\n  - _self_\n")
    with pytest.raises(InvalidValue) as refused:
        check_command_line([f"--config-dir={tmp_path}"], command)
    assert str(refused.value) == (
        f"--config-dir='{tmp_path}' is not valid; the lab's own {command}.yaml shadows "
        f"{tmp_path / command}.yaml (Hydra reads the lab's): name yours otherwise, e.g. "
        f"my_{command}.yaml, start it with `defaults: [{command}, _self_]` and pass "
        f"--config-name my_{command}"
    )


def test_a_group_option_named_as_the_labs_is_refused_with_what_to_do(tmp_path):
    write(tmp_path / "optimizer" / "sgd.yaml", "defaults:\n  - adamw\n  - _self_\nlr: 0.7\n")
    with pytest.raises(InvalidValue) as refused:
        check_command_line(["-cd", str(tmp_path), "optimizer=sgd"], "train")
    assert str(refused.value) == (
        f"--config-dir='{tmp_path}' is not valid; the lab's own optimizer=sgd shadows "
        f"{tmp_path / 'optimizer' / 'sgd.yaml'} (Hydra reads the lab's): name yours otherwise, "
        "e.g. optimizer/my_sgd.yaml (`defaults: [sgd, _self_]` in it starts from the lab's), "
        "and pick it with optimizer=my_sgd"
    )


@pytest.mark.slow
def test_the_advice_works_and_its_mistakes_are_one_line_too(run_script, monkeypatch, tmp_path):
    # The refusal and the run: train.py's entry point in this process; the typo's whole stderr:
    # a real process.
    conf = tmp_path / "conf"
    write(conf / "train.yaml", "seed: 5\n")
    refused = command_exit(
        monkeypatch, "train.py", "--config-dir", str(conf), *TINY, f"paths.log_dir={tmp_path}/logs"
    )
    assert isinstance(refused, str)  # a message: exit status 1
    assert refused.startswith(
        f"error: --config-dir='{conf}' is not valid; the lab's own train.yaml shadows"
    )
    (conf / "train.yaml").rename(conf / "my_train.yaml")
    write(
        conf / "my_train.yaml",
        "defaults:\n  - train\n  - _self_\nseed: 5\noptimizer:\n  lr: 0.00321\n",
    )
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "train.py",
            "--config-dir",
            str(conf),
            "--config-name",
            "my_train",
            *TINY,
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
    )
    train_command()  # completes: no SystemExit
    written = (tmp_path / "run" / "config.yaml").read_text()
    assert "lr: 0.00321" in written and "seed: 5" in written
    typo = run_script(
        "train.py",
        "--config-dir",
        str(conf),
        "--config-name",
        "my_train",
        *TINY,
        "optimizer.lr=0.1x",
        f"paths.log_dir={tmp_path / 'logs'}",
    )
    assert typo.returncode == 1
    assert typo.stderr.strip().splitlines() == [
        "error: optimizer.lr='0.1x' is not valid; it must be a number"
    ]
    assert not (tmp_path / "logs").exists()


def test_a_config_dir_that_is_no_folder_is_one_line(tmp_path):
    with pytest.raises(InvalidValue) as refused:
        check_command_line(["--config-dir", str(tmp_path / "nope"), "model=mini"], "train")
    assert (
        str(refused.value)
        == f"--config-dir='{tmp_path / 'nope'}' is not valid; there is no such folder"
    )


def test_a_config_name_that_is_nowhere_is_one_line(tmp_path):
    write(tmp_path / "my_train.yaml", "defaults:\n  - train\n  - _self_\n")
    with pytest.raises(InvalidValue) as refused:
        check_command_line(["-cd", str(tmp_path), "-cn", "my_trian"], "train")
    assert str(refused.value) == (
        "--config-name='my_trian' is not valid; "
        "choose one of: describe, eval, export, interpret, my_train, predict, train"
    )
