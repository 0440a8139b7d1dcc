"""train.py in a real process, writing under a log dir, and the run dirs and records it leaves:
the helpers of tests/run/test_reliability.py, tests/run/test_failing_runs.py and
tests/run/test_checkpoint_files.py."""

import json
import subprocess
from pathlib import Path


def train(run_script, log_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """train.py with `overrides`, writing under `log_dir`."""
    return run_script("train.py", *overrides, f"paths.log_dir={log_dir}")


def run_dirs(log_dir: Path) -> list[Path]:
    return sorted(log_dir.glob("train/runs/*"))


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())
