"""The steps of experiments/gpu_acceptance.py, each run by `run_step` in a process of its own
(forked by the driver, which imported all this once): each writes {"checks": [{"name",
"status": passed|failed|skipped, "detail"}], "info": {...}} to its result file. On the CPU the
sizes are tiny and what needs CUDA is skipped with the reason. Nothing here touches CUDA at
import: the driver forks after importing this package.

The steps, grouped by what they check: device_probe.py (1), numerics.py (2), decoding.py (3),
training_runs.py (4, 7), speed.py (5, 6, 8); checks.py has what they share.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import torch

from .checks import Checks
from .decoding import decode_render
from .device_probe import probe
from .numerics import precision
from .speed import compile_step, device_data, throughput
from .training_runs import ddp_sweep, train_eval_resume

STEPS: dict[str, Callable[[Checks, Path], None]] = {
    "probe": probe,
    "precision": precision,
    "decode_render": decode_render,
    "train_eval_resume": train_eval_resume,
    "device_data": device_data,
    "compile": compile_step,
    "ddp_sweep": ddp_sweep,
    "throughput": throughput,
}


def run_step(step: str, device: str, work: Path, result: Path) -> None:
    """Run `step` on `device` in `work`; write its checks to `result`."""
    work.mkdir(parents=True, exist_ok=True)
    checks = Checks(device)
    if device == "cuda" and not torch.cuda.is_available():
        checks.check("CUDA available", False, "torch.cuda.is_available() is False (use --cpu)")
    else:
        started = time.monotonic()
        checks.attempt(step, lambda: STEPS[step](checks, work))
        checks.info["seconds"] = round(time.monotonic() - started, 1)
    checks.info["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result.write_text(json.dumps({"checks": checks.items, "info": checks.info}, indent=2))
