"""A table of bad overrides, every group and every kind of mistake (an unknown option, a wrong type,
a value out of range, a key that does not exist, bad syntax): each stops `train.py` with one line
naming the key, the value and what is allowed, a non-zero exit, and no run dir.

The table's rows: tests/support/bad_model_overrides.py (model, activation, dropout, optimizer,
schedule) and tests/support/bad_run_overrides.py (the rest).

The table runs the real command-line entry point in this process (a process each would cost ~10 s of
imports); tests/launch/test_sweeps.py runs a few as real processes."""

import sys

import pytest

from alexnet.cli.main import train_command
from tests.support.bad_model_overrides import BAD_MODEL_OVERRIDES
from tests.support.bad_run_overrides import BAD_RUN_OVERRIDES

TABLE = BAD_MODEL_OVERRIDES + BAD_RUN_OVERRIDES


@pytest.mark.parametrize(
    ("overrides", "message"), TABLE, ids=[" ".join(overrides) for overrides, _ in TABLE]
)
def test_a_bad_override_stops_with_one_line_and_leaves_nothing(
    tmp_path, monkeypatch, overrides, message
):
    monkeypatch.setattr(
        sys,
        "argv",
        ["train.py", "model=mini", "trainer=cpu", *overrides, f"paths.log_dir={tmp_path}"],
    )
    with pytest.raises(SystemExit) as stopped:
        train_command()
    assert stopped.value.code == f"error: {message}"  # a message: printed, exit status 1
    assert not list(tmp_path.glob("train/*/*"))  # no run dir, no sweep dir


def test_the_table_covers_every_group():
    from alexnet.config.compose import CONF_DIR

    groups = {p.name for p in CONF_DIR.iterdir() if p.is_dir()} - {
        "hydra",
        "paths",
        "ablation",
        "hparams_search",
    }
    named = {
        override.lstrip("+-").split("=")[0].split(".")[0]
        for overrides, _ in TABLE
        for override in overrides
    }
    assert groups <= named
