"""What the acceptance steps share: the run each trains (per device), the checks each records,
and running the repository's commands."""

from __future__ import annotations

import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The run each step trains: the defaults on a GPU; the mini preset on tiny images on the CPU.
SIZES = {
    "cuda": ["trainer=gpu"],
    "cpu": [
        "trainer=cpu",
        "model=mini",
        "data.image_size=64",
        "data.num_classes=3",
        "data.train_per_class=24",
        "data.val_per_class=8",
        "data.test_per_class=8",
        "data.batch_size=8",
        "data.num_workers=0",
        "optimizer.lr=0.001",  # 0.003 left some seeds at chance (dead units); 0.001: seeds 0-5 pass
    ],
}


class Checks:
    """The checks of one step and the figures it records."""

    def __init__(self, device: str) -> None:
        self.device, self.items, self.info = device, [], {}

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.items.append(
            {"name": name, "status": "passed" if passed else "failed", "detail": detail}
        )
        return passed

    def skip(self, name: str, why: str) -> None:
        self.items.append({"name": name, "status": "skipped", "detail": why})

    def attempt(self, name: str, body: Callable[[], None]) -> None:
        """Run `body` (which records its own checks); an exception fails `name` with its line."""
        try:
            body()
        except Exception as err:  # noqa: BLE001 - any error is this check's failure
            traceback.print_exc()
            self.check(name, False, f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")

    def cuda_only(self, name: str) -> bool:
        if self.device == "cuda":
            return True
        self.skip(name, "needs CUDA")
        return False


def overrides(device: str, *extra: str) -> list[str]:
    return [*SIZES[device], "test=false", "checkpoint_every_n_steps=0", *extra]


def run_cli(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def last_line(done: subprocess.CompletedProcess) -> str:
    """What a failed command said last (nothing for one that succeeded)."""
    if done.returncode == 0:
        return ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1][:300] if lines else f"exit {done.returncode}"
