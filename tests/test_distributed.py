"""DDP on CPU (gloo, 2 processes) alone and inside sweeps; one device slot per parallel job."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, compose_train

DDP = [*TINY, "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "debug=limit",
       "trainer.max_epochs=1", "callbacks.progress_bar.refresh_rate=0",
       "+callbacks.probe._target_=tests.rank_probe.RecordRank"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "train.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def ranks(job: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(job.glob("rank_*.json"))]


def test_ddp_composes_with_a_per_device_batch():
    cfg = compose_train("trainer=ddp", "trainer.devices=4")
    assert cfg.trainer.strategy._target_ == "alexnet.distributed.HydraDDPStrategy"
    assert cfg.trainer.devices == 4 and cfg.data.batch_size == 64  # per device


@pytest.mark.slow
def test_ddp_run_syncs_metrics_and_writes_once(tmp_path):
    result = run(*DDP, f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = tmp_path.glob("train/runs/*")
    assert [r["rank"] for r in ranks(job)] == [0, 1] and ranks(job)[1]["world_size"] == 2
    summary = json.loads((job / "metrics.json").read_text())
    assert summary["status"] == "completed" and 0 <= summary["metrics"]["val/acc1"] <= 1
    assert sorted(p.name for p in (job / "checkpoints").iterdir()) == ["epoch_000.ckpt",
                                                                       "last.ckpt"]
    assert len(list((job / "tensorboard").glob("events.*"))) == 2  # fit and test, rank 0 only
    assert list(tmp_path.glob("train/runs/*")) == [job]  # the second rank made no dir


@pytest.mark.slow
def test_ddp_multirun_runs_each_job_once_in_its_own_dir(tmp_path):
    result = run("-m", *DDP, "logger=csv", "activation=relu,tanh", f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    assert sorted(p.name for p in sweep.iterdir()) == ["0", "1", "multirun.yaml", "summary.json",
                                                      "summary.md"]
    for job, activation in (("0", "relu"), ("1", "tanh")):
        records = ranks(sweep / job)
        assert [(r["rank"], r["activation"]) for r in records] == [(0, activation),
                                                                   (1, activation)]
        assert json.loads((sweep / job / "metrics.json").read_text())["status"] == "completed"
    assert len(list(tmp_path.rglob("multirun.yaml"))) == 1  # no rank ran a sweep of its own


@pytest.mark.slow
def test_ddp_under_optuna_runs_each_trial_once(tmp_path):
    result = run("hparams_search=optuna", "hydra.sweeper.n_trials=2",
                 "hydra.sweeper.sampler.n_startup_trials=2", *DDP, "logger=csv",
                 f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [p.name for p in jobs] == ["0", "1"]
    for job in jobs:
        overrides = json.loads((job / "metrics.json").read_text())["overrides"]
        lr = float(next(o for o in overrides if o.startswith("optimizer.lr=")).split("=")[1])
        records = ranks(job)
        assert len(records) == 2
        assert all(r["lr"] == pytest.approx(lr) for r in records)


@pytest.mark.slow
def test_parallel_jobs_get_distinct_device_slots(tmp_path):
    result = run("-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "device_slots=2",
                 *TINY, "debug=limit", "trainer.max_epochs=1", "logger=csv",
                 "activation=relu,tanh", f"paths.log_dir={tmp_path}",
                 # both jobs hold their slot at once (else the second may reuse a freed slot 0)
                 "+callbacks.rendezvous._target_=tests.rendezvous.Rendezvous",
                 f"+callbacks.rendezvous.folder={tmp_path / 'arrived'}")
    assert result.returncode == 0, result.stderr[-3000:]
    summaries = [json.loads(p.read_text())
                 for p in tmp_path.glob("train/multiruns/*/*/metrics.json")]
    assert [s["status"] for s in summaries] == ["completed", "completed"]
    assert sorted(s["device_slot"] for s in summaries) == [0, 1]


def test_device_slots_are_exclusive_while_held(tmp_path):
    from alexnet.device_slots import acquire

    first, second = acquire(tmp_path, 2), acquire(tmp_path, 2)
    assert {first.index, second.index} == {0, 1}
    first.release()
    third = acquire(tmp_path, 2)
    assert third.index == first.index
    second.release()
    third.release()
