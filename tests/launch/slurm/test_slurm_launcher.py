"""hydra/launcher=slurm against a running SLURM (tests/launch/slurm/conftest.py starts one)."""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ROOT
from tests.launch.slurm.conftest import job_records, slurm_sweep

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("slurm")]
TINY = [
    "model=mini",
    "data.image_size=64",
    "data.num_classes=3",
    "data.train_per_class=8",
    "data.val_per_class=4",
    "data.test_per_class=2",
    "data.batch_size=4",
    "data.num_workers=0",
    "trainer.max_epochs=1",
    "logger=none",
    "callbacks=none",
]


def test_a_ddp_sweep_runs_two_cpu_ranks_per_job_and_two_nodes_match_one(tmp_path):
    # One job of 1 node x 2 gloo ranks; then the same job across 2 nodes x 1 rank: the
    # test cluster's partition "twonode" holds this machine under two node names, one slurmd
    # each (scripts/start_slurm.sh). A callback records the node each rank ran on.
    run = [
        *TINY,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "data.num_classes=4",
        "data.train_per_class=25",
        "trainer.max_epochs=2",
        "+callbacks.place._target_=tests.support.signal_probe.RecordRankPlace",
        "+callbacks.place.folder=${hydra:runtime.output_dir}/places",
    ]
    one_node = slurm_sweep(tmp_path / "one", "alexnet-ddp", *run, "trainer.devices=2", "seed=0")
    assert one_node.returncode == 0, one_node.stderr[-3000:]
    sweep = json.loads((tmp_path / "one" / "sweep" / "sweep.json").read_text())
    assert [(j["job"], j["status"]) for j in sweep] == [(0, "completed")]  # (sweeps of several
    # jobs: test_a_failing_job_is_recorded_and_the_sweep_goes_on)
    scripts = sorted((tmp_path / "one" / "submitit").glob("*_submission.sh"))
    assert scripts and all("--ntasks-per-node=2" in s.read_text() for s in scripts)
    assert not any("gpu" in s.read_text() for s in scripts)  # a CPU partition takes it
    second_ranks = sorted((tmp_path / "one" / "submitit").glob("*_1_log.*"))  # task 1's out, err
    assert len(second_ranks) == 2
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in "".join(p.read_text() for p in second_ranks)
    two_nodes = slurm_sweep(
        tmp_path / "two",
        "alexnet-2x1",
        *run,
        "trainer.devices=1",
        "trainer.num_nodes=2",
        "hydra.launcher.partition=twonode",
        "seed=0",
    )
    assert two_nodes.returncode == 0, two_nodes.stderr[-3000:]
    (script,) = (tmp_path / "two" / "submitit").glob("*_submission.sh")
    assert "--nodes=2" in script.read_text() and "--ntasks-per-node=1" in script.read_text()
    places = {
        out: sorted(
            json.loads(p.read_text())["node"]
            for p in (tmp_path / out / "sweep" / "0" / "places").glob("rank*.json")
        )
        for out in ("two", "one")
    }
    assert len(places["two"]) == len(places["one"]) == 2
    assert len(set(places["two"])) == 2 and len(set(places["one"])) == 1  # where ranks ran
    split = job_records(tmp_path / "two" / "sweep")[0]
    together = job_records(tmp_path / "one" / "sweep")[0]
    assert split["status"] == together["status"] == "completed"
    assert split["global_step"] == together["global_step"]
    assert split["metrics"] == pytest.approx(together["metrics"], abs=1e-6)


def test_a_failing_job_is_recorded_and_the_sweep_goes_on(tmp_path):
    done = slurm_sweep(tmp_path, "alexnet-fail", *TINY, "data.image_size=8,64")
    assert done.returncode == 0, done.stderr[-3000:]
    sweep = {j["job"]: j for j in json.loads((tmp_path / "sweep" / "sweep.json").read_text())}
    assert sweep[0]["status"] == "failed" and "image_size" in sweep[0]["error"]
    assert sweep[1]["status"] == "completed"
    assert "Sweep finished: 2 jobs, 1 completed, 1 failed" in done.stdout + done.stderr


def test_a_refused_submission_is_one_line(tmp_path):
    done = slurm_sweep(tmp_path, "alexnet-gpu", *TINY, "trainer=gpu", timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "error: sbatch refused the job: sbatch: error: Invalid generic "
        "resource (gres) specification; check hydra.launcher.partition"
    )
    assert "hydra.launcher.gpus_per_node" in last


def test_a_job_killed_without_a_result_is_failed_promptly_and_the_sweep_goes_on(tmp_path):
    # Job 0 kills itself (SIGKILL) mid-epoch: no result file. This cluster runs without
    # accounting (sacct fails), where the sweep used to poll for ever.
    started = time.monotonic()
    done = slurm_sweep(
        tmp_path,
        "alexnet-vanish",
        *TINY,
        "+callbacks.kill._target_=tests.support.killer.KillAtStep",
        "+callbacks.kill.step=1,100000",
        "hydra.launcher.poll_s=2",
        "hydra.launcher.vanished_grace_s=5",
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sweep = {j["job"]: j for j in json.loads((tmp_path / "sweep" / "sweep.json").read_text())}
    assert sweep[0]["status"] == "failed"
    assert "ended without a result: FAILED" in sweep[0]["error"], sweep[0]["error"]
    assert sweep[1]["status"] == "completed"
    assert time.monotonic() - started < 300


def test_a_ddp_job_past_its_time_limit_is_requeued_once_and_ends_as_uninterrupted(tmp_path):
    # 2 ranks (gloo), SLURM's warning 20..50 s into the first 1-minute attempt: the ranks agree
    # on one batch boundary, rank 0 saves and requeues the job once, both resume. The reference
    # is the same DDP run outside SLURM, one thread a rank as SLURM gives each task one CPU.
    run = [
        *TINY,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "data.num_classes=4",
        "data.train_per_class=25",
        "trainer.max_epochs=3",
        "seed=0",
    ]
    sleep = [
        "+callbacks.sleep._target_=tests.support.slow_steps.SleepEachStep",
        "+callbacks.sleep.seconds=1",
        "+callbacks.sleep.first_attempt_only=true",
    ]
    reference = [sys.executable, "train.py", *run, f"hydra.run.dir={tmp_path / 'reference'}"]
    with ThreadPoolExecutor(2) as pool:
        local = pool.submit(
            subprocess.run,
            reference,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        cut = slurm_sweep(
            tmp_path / "limited",
            "alexnet-ddp-limit",
            *run,
            *sleep,
            "hydra.launcher.timeout_min=1",
            "hydra.launcher.signal_delay_s=10",
            timeout=900,
        )
        local = local.result()
    assert cut.returncode == 0, cut.stderr[-3000:]
    assert local.returncode == 0, local.stderr[-3000:]
    (record,) = job_records(tmp_path / "limited" / "sweep").values()
    uncut = json.loads((tmp_path / "reference" / "metrics.json").read_text())
    assert record["status"] == "completed" and record["requeues"] >= 1
    assert record["global_step"] == uncut["global_step"]
    assert record["metrics"] == pytest.approx(uncut["metrics"], abs=1e-6)
    logs = "".join(p.read_text() for p in (tmp_path / "limited" / "submitit").glob("*_log.*"))
    # One requeue per warning signal, not one per rank. On a loaded machine a restarted attempt
    # can outlast its own 1-minute limit too (imports and DDP's start take half of it) and is
    # warned and requeued again: each time by rank zero alone.
    assert logs.count("and requeued job") == record["requeues"]
