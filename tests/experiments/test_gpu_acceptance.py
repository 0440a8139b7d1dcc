"""The GPU acceptance script runs end to end on the CPU (--cpu, tiny sizes) before anyone spends
GPU time on it: every step passes or is skipped for needing CUDA, and a failing or hanging step
fails the run without stopping the others."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.experiments.conftest import load

SCRIPT = ["-m", "experiments.gpu_acceptance"]  # run from the checkout, as a module


# The steps whose CPU run repeats runs the suite makes already: train / eval / resume with the
# interpret callbacks (tests/run, tests/callbacks), the device data paths on the CPU
# (tests/data), torch.compile's recompilations (tests/training/test_compile.py) and a DDP sweep
# (tests/launch). They run on the GPU, where their numbers are new.
REPEATS = ("train_eval_resume", "device_data", "compile", "ddp_sweep")


@pytest.mark.slow
def test_every_step_passes_on_the_cpu(tmp_path):
    steps = [step[0] for step in load("gpu_acceptance").STEPS if step[0] not in REPEATS]
    assert len(steps) == len(load("gpu_acceptance").STEPS) - len(REPEATS)
    done = subprocess.run(
        [sys.executable, *SCRIPT, "--cpu", "--only", *steps, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert done.returncode == 0, (summary["verdict"], done.stderr[-3000:])
    assert list(summary["steps"]) == steps
    for name, step in summary["steps"].items():
        statuses = {check["status"] for check in step["checks"]}
        assert "passed" in statuses, name  # each step asserted something here
        skipped = [c for c in step["checks"] if c["status"] == "skipped"]
        assert all("CUDA" in c["detail"] or "GPU" in c["detail"] for c in skipped), skipped
    assert summary["provenance"]["commit"] and "summary.md" in {p.name for p in tmp_path.iterdir()}


def test_a_failing_step_is_reported_and_the_exit_status_says_so(tmp_path):
    # Without CUDA, the GPU mode's probe fails with its reason; the run still writes its summary.
    done = subprocess.run(
        [sys.executable, *SCRIPT, "--only", "probe", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    if summary["provenance"]["machine"]["gpu"]:
        pytest.skip("this machine has a GPU: the probe passes")
    assert done.returncode == 1
    check = summary["steps"]["probe"]["checks"][0]
    assert check["status"] == "failed" and "use --cpu" in check["detail"]
    assert "1 step(s) failed: probe" in (tmp_path / "summary.md").read_text()


def test_a_step_past_its_timeout_is_killed_with_what_it_started(tmp_path):
    module = load("gpu_acceptance")
    (tmp_path / "steps").mkdir()
    # Its first `python train.py` starts at once; 3 s later the step is killed, mid-run.
    result = module.run_step("train_eval_resume", "cpu", tmp_path, timeout=3)
    assert result["status"] == "failed" and result["error"].startswith("timed out after 3 s")
    time.sleep(1)
    left = [
        p
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and str(tmp_path).encode() in _cmdline(p)
    ]
    assert not left  # the train.py it had started is gone too


def _cmdline(process: Path) -> bytes:
    try:
        return (process / "cmdline").read_bytes()
    except OSError:  # ended meanwhile
        return b""
