"""A claim experiment never reports what it did not measure: `--size full` without real data
is refused with the dataset the claim expects, and a sweep whose every job failed ends with one
line and a failed exit, not an empty table."""

import pytest

from tests.experiments.conftest import load


@pytest.mark.parametrize(
    ("experiment", "args", "expects"),
    [
        ("ablation", ["--claim", "lrn"], "imagenette"),
        ("relu_vs_tanh", [], "cifar10"),
        ("tower_colour", [], "imagenette"),
    ],
)
def test_size_full_without_data_is_refused(tmp_path, experiment, args, expects):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        load(experiment).main([*args, "--size", "full", "--out", str(out)])
    assert str(stopped.value) == (
        f"error: --size full needs --data (or --data-root): this claim expects {expects}; "
        "the synthetic tasks are the tiny and cpu sizes'"
    )
    assert not out.exists()  # nothing trained, nothing written


def test_a_sweep_whose_every_job_failed_exits_with_one_line(tmp_path):
    out = tmp_path / "out"
    ablation = load("ablation")
    with pytest.raises(SystemExit) as stopped:  # no GPU here: each job fails at its trainer
        ablation.main(
            ["--claim", "lrn", "--size", "tiny", "--seeds", "1", "--out", str(out)]
            + ["trainer=gpu"]
        )
    line = str(stopped.value)
    assert line.startswith("error: every job of the sweep failed (2 recorded; the first: ")
    assert "No supported gpu backend found" in line and "\n" not in line
    assert not (out / "runs.json").exists() and not (out / "ablation.md").exists()
