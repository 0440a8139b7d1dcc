"""Crash safety, resume and reproducibility: a run killed with kill -9 and resumed ends like an
uninterrupted one (real processes), the same seed gives the same metrics (in this process), and
an interrupted save leaves the previous checkpoint whole (runs that fail:
tests/run/test_failing_runs.py; checkpoint files given to the entry points:
tests/run/test_checkpoint_files.py)."""

import signal

import pytest
import torch

from alexnet.run.checkpoints import AtomicCheckpointIO
from tests.conftest import TINY
from tests.support.train_runs import metrics, run_dirs, train, train_here

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
        "+callbacks.kill._target_=tests.support.killer.KillAtStep",
        "+callbacks.kill.step=7",
    )
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = run_dirs(tmp_path / "killed")
    assert metrics(run_dir)["status"] == "running"  # the record from the start, never updated
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
def test_same_seed_same_metrics(tmp_path):
    for name in ("a", "b"):
        train_here(tmp_path / name, *RESUMABLE, "trainer.max_epochs=1")
    first, second = (metrics(run_dirs(tmp_path / name)[0]) for name in ("a", "b"))
    # Bit for bit: both run in this process, one after the other (the same thread count and CPU
    # kernels), with the same seed and deterministic=true; nothing the first leaves may leak.
    assert first["metrics"] == second["metrics"] and first["metrics"]["train/loss"] > 0
    train_here(tmp_path / "c", *RESUMABLE, "trainer.max_epochs=1", "seed=1")
    # Another seed draws other images and weights: the losses differ by far more than rounding
    # (a float32 mean of this size moves by about 1e-6; the record keeps 6 decimals).
    changed = metrics(run_dirs(tmp_path / "c")[0])["metrics"]
    assert abs(changed["train/loss"] - first["metrics"]["train/loss"]) > 1e-4
    assert abs(changed["val/loss"] - first["metrics"]["val/loss"]) > 1e-4


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
