"""DDP on CPU (gloo, 2 processes) alone and inside sweeps; one device slot per parallel job. The
runs on one device that only serve a DDP test run in this process."""

import json
import sys
import time
from pathlib import Path

import pytest
import torch

from alexnet.cli.main import eval_command
from alexnet.run.api import train
from tests.conftest import TINY, compose_train

DDP = [
    *TINY,
    "trainer=ddp",
    "trainer.accelerator=cpu",
    "trainer.devices=2",
    "debug=limit",
    "trainer.max_epochs=1",
    "callbacks.progress_bar.refresh_rate=0",
    "+callbacks.probe._target_=tests.support.rank_probe.RecordRank",
]


def ranks(job: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(job.glob("rank_*.json"))]


def test_ddp_composes_with_a_per_device_batch():
    cfg = compose_train("trainer=ddp", "trainer.devices=4")
    assert cfg.trainer.strategy._target_ == "alexnet.launch.distributed.HydraDDPStrategy"
    assert cfg.trainer.devices == 4 and cfg.data.batch_size == 64  # per device


@pytest.mark.slow
def test_ddp_run_syncs_metrics_and_writes_once(run_script, tmp_path, caplog):
    result = run_script("train.py", *DDP, f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = tmp_path.glob("train/runs/*")
    assert [r["rank"] for r in ranks(job)] == [0, 1] and ranks(job)[1]["world_size"] == 2
    record = json.loads((job / "metrics.json").read_text())
    assert record["status"] == "completed"
    # 3 classes: the label is always in the top 5; a count over a count, so exactly 1.0
    assert record["metrics"]["val/acc5"] == 1.0
    assert sorted(p.name for p in (job / "checkpoints").iterdir()) == [
        "epoch_000.ckpt",
        "last.ckpt",
    ]
    assert len(list((job / "tensorboard").glob("events.*"))) == 2  # fit and test, rank 0 only
    assert list(tmp_path.glob("train/runs/*")) == [job]  # the second rank made no dir
    # Each rank draws its own dropout masks; the checkpoint keeps each rank's generators.
    assert ranks(job)[0]["draw"] != ranks(job)[1]["draw"]
    states = torch.load(job / "checkpoints" / "last.ckpt", weights_only=True)["callbacks"]
    saved = states["RNGState"]["ranks"]
    assert len(saved) == 2 and not torch.equal(saved[0]["torch"], saved[1]["torch"])
    # Resumed on one process (this one): it goes on, and warns it is no longer bit-exact.
    resumed = [*TINY, "trainer.max_epochs=2", "logger=none", f"ckpt_path={job}"]
    train(compose_train(*resumed, output_dir=tmp_path / "resumed"))
    assert "Resumed on 1 rank(s) from states saved by 2" in caplog.text


@pytest.mark.slow
def test_ddp_multirun_runs_each_job_once_in_its_own_dir(run_script, tmp_path):
    result = run_script(
        "train.py", "-m", *DDP, "logger=csv", "activation=relu,tanh", f"paths.log_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    assert sorted(p.name for p in sweep.iterdir()) == [
        "0",
        "1",
        "multirun.yaml",
        "sweep.json",
        "sweep.md",
    ]
    for job, activation in (("0", "relu"), ("1", "tanh")):
        records = ranks(sweep / job)
        assert [(r["rank"], r["activation"]) for r in records] == [(0, activation), (1, activation)]
        assert json.loads((sweep / job / "metrics.json").read_text())["status"] == "completed"
    assert len(list(tmp_path.rglob("multirun.yaml"))) == 1  # no rank ran a sweep of its own


@pytest.mark.slow
def test_ddp_under_optuna_runs_each_trial_once(run_script, tmp_path):
    result = run_script(
        "train.py",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=2",
        *DDP,
        "logger=csv",
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [p.name for p in jobs] == ["0", "1"]
    for job in jobs:
        overrides = json.loads((job / "metrics.json").read_text())["overrides"]
        lr = float(next(o for o in overrides if o.startswith("optimizer.lr=")).split("=")[1])
        records = ranks(job)
        assert len(records) == 2
        # a value Optuna drew, printed in the override and parsed back: no arithmetic
        assert all(r["lr"] == pytest.approx(lr, rel=1e-9) for r in records)


def test_device_slots_are_exclusive_while_held(tmp_path):
    from alexnet.launch.device_slots import acquire

    first, second = acquire(tmp_path, 2), acquire(tmp_path, 2)
    assert {first.index, second.index} == {0, 1}
    first.release()
    third = acquire(tmp_path, 2)
    assert third.index == first.index
    second.release()
    third.release()


def test_a_worker_takes_back_the_slot_of_its_gpu_when_it_is_free(tmp_path):
    from alexnet.launch.device_slots import acquire

    held = acquire(tmp_path, 3)  # slot 0, held by another job
    mine = acquire(tmp_path, 3, prefer=2)  # this worker's CUDA context is on GPU 2
    assert (held.index, mine.index) == (0, 2)
    busy = acquire(tmp_path, 3, prefer=2)  # 2 is taken: the next free one
    assert busy.index == 1
    for slot in (held, mine, busy):
        slot.release()


def test_device_slots_never_narrow_a_ddp_job_to_one_gpu(tmp_path):
    from alexnet.errors import InvalidValue
    from alexnet.launch.device_slots import take_device

    cfg = compose_train("trainer=ddp", "device_slots=2", output_dir=tmp_path)
    with pytest.raises(InvalidValue, match=r"device_slots=2 is not valid; .*trainer.devices=2"):
        take_device(cfg)


@pytest.mark.slow
def test_ddp_test_metrics_equal_a_single_device_evaluation(run_script, monkeypatch, tmp_path):
    # 3 classes x 3 test images = 9: an odd set, which a padding sampler would repeat.
    # The training and the single-device evaluation in this process, the DDP one a process.
    run = [*TINY, "data.test_per_class=3", "trainer.max_epochs=1", "logger=none", "test=false"]
    train(compose_train(*run, output_dir=tmp_path / "run"))
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    evaluation = ["eval.py", f"ckpt_path={ckpt}", "split=test"]
    monkeypatch.setattr(
        sys, "argv", [*evaluation, "trainer=cpu", f"paths.log_dir={tmp_path}/single"]
    )
    eval_command()  # completes: no SystemExit
    ddp = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]
    result = run_script(*evaluation, *ddp, f"paths.log_dir={tmp_path / 'ddp'}")
    assert result.returncode == 0, result.stderr[-2000:]
    records = {}
    for name in ("single", "ddp"):
        (path,) = (tmp_path / name).glob("eval/runs/*/metrics.json")
        records[name] = json.loads(path.read_text())["metrics"]
    assert set(records["ddp"]) == {"test/loss", "test/acc1", "test/acc5"}
    # Not bit for bit: DDP is 2 gloo processes (Lightning gives each cpus // 2 threads unless
    # OMP_NUM_THREADS is set), each with its own batches, whose sums are all-reduced; the single
    # run is one process with all the threads. Another summation order, so the loss agrees to
    # float32 rounding: 1e-5 relative (a repeated or dropped image, what this test is about,
    # would move it by ~1e-1). The accuracies are counts over 9 images, equal unless a near-tie
    # of two logits flipped: abs=1e-6 << 1/9.
    assert records["ddp"]["test/loss"] == pytest.approx(
        records["single"]["test/loss"], rel=1e-5, abs=1e-6
    )
    for key in ("test/acc1", "test/acc5"):
        assert records["ddp"][key] == pytest.approx(records["single"][key], abs=1e-6), key


def test_the_lightning_internals_that_distributed_patches_are_still_there():
    """alexnet/launch/distributed.py replaces a private Lightning function and overrides private
    methods; when a Lightning release moves them, this fails first, naming what moved."""
    import inspect

    from lightning.pytorch.strategies import DDPStrategy
    from lightning.pytorch.strategies.launchers import subprocess_script
    from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

    from alexnet.launch.distributed import rank_command

    patched = getattr(subprocess_script, "_hydra_subprocess_cmd", None)
    assert callable(patched), "lightning moved subprocess_script._hydra_subprocess_cmd"
    assert (
        list(inspect.signature(patched).parameters)
        == list(inspect.signature(rank_command).parameters)
        == ["local_rank"]
    )
    source = inspect.getsource(_SubprocessScriptLauncher._call_children_scripts)
    assert "_hydra_subprocess_cmd(local_rank)" in source and "self.procs" in source
    observer = getattr(subprocess_script, "_launch_process_observer", None)
    assert callable(observer), "lightning moved subprocess_script._launch_process_observer"
    assert "_launch_process_observer(self.procs)" in inspect.getsource(
        _SubprocessScriptLauncher.launch
    )
    assert callable(getattr(DDPStrategy, "_configure_launcher", None))
    assert "_launcher" in inspect.getsource(DDPStrategy._configure_launcher)


@pytest.mark.slow
@pytest.mark.parametrize("rank", [0, 1])
def test_a_rank_that_fails_ends_the_whole_job_promptly(run_script, tmp_path, rank):
    # Without the bound the surviving rank waited in its collective for the process group's
    # default timeout (30 minutes), and rank zero waited for its child without a timeout.
    started = time.monotonic()
    result = run_script(
        "train.py",
        *DDP,
        "trainer.max_epochs=3",
        "trainer.strategy.timeout_s=20",
        "+callbacks.boom._target_=tests.support.rank_probe.RaiseOnRank",
        f"+callbacks.boom.rank={rank}",
        "+callbacks.boom.step=3",
        f"hydra.run.dir={tmp_path}",
        timeout=240,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1 and elapsed < 120, (elapsed, result.stderr[-3000:])
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: rank {rank} failed: ValueError: raised on rank {rank} only")
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["status"] == "failed" and record["error"].startswith(f"RankFailed: rank {rank}")
    assert (tmp_path / "checkpoints" / "epoch_000.ckpt").is_file()  # saved before: kept
