"""Sweeps from code: launch `python train.py -m ...` and read back each job's own files.

Experiments train through the real command line and read each job's config.yaml and
metrics.json (with its per-epoch history), so a report can be re-made from a sweep dir at any time
without retraining.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alexnet.record import read_record

ROOT = Path(__file__).resolve().parents[2]  # the checkout holding the package
log = logging.getLogger(__name__)


def sweep_of(report_dir: Path) -> Path:
    """The sweep dir of an experiment's output dir (or the dir itself if it is a sweep)."""
    return report_dir / "sweep" if (report_dir / "sweep").is_dir() else report_dir


def launch_multirun(overrides: Iterable[str], sweep_dir: Path, quiet: bool = False) -> None:
    """Run `python train.py -m <overrides>` with its jobs under `sweep_dir`; raise if it fails."""
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        "-m",
        *overrides,
        f"hydra.sweep.dir={sweep_dir}",
    ]
    log.info("Running: %s", " ".join(command))
    result = subprocess.run(command, cwd=ROOT, text=True, capture_output=quiet)
    if result.returncode != 0:
        tail = (result.stderr or "")[-3000:] if quiet else ""
        raise RuntimeError(
            f"the sweep failed (exit {result.returncode}): {' '.join(command)}\n{tail}"
        )


@dataclass(frozen=True)
class Run:
    """One finished job of a sweep: its dir, resolved config, and metrics.json."""

    path: Path
    config: dict[str, Any]
    record: dict[str, Any]

    @property
    def metrics(self) -> dict[str, float]:
        return self.record.get("metrics", {})

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.record.get("history", [])

    @property
    def task(self) -> str:
        """What it trained on: the calibrated task (hard-v2), else the synthetic drawing's
        version, else the data source."""
        return str(
            self.record.get("task")
            or self.record.get("data_version")
            or self.config.get("data", {}).get("source", "?")
        )

    def first(self, key: str, reached: float, below: bool = False) -> dict[str, Any] | None:
        """The first epoch entry whose `key` is >= `reached` (<= with `below`), if any."""
        for entry in self.history:
            value = entry.get(key)
            if value is not None and (value <= reached if below else value >= reached):
                return entry
        return None


SUMMARY = "runs.json"
# What a run's summary keeps of its metrics.json (the rest is for resuming and debugging).
RECORD_KEYS = (
    "status",
    "error",
    "metrics",
    "history",
    "probe",
    "choices",
    "overrides",
    "wall_time_s",
    "epochs",
    "data_version",
    "task",
    "colour_basis",
    "colour_shifted_val",
    "dead",
)


def summarize(runs: list[Run], prefix: str = "") -> list[dict[str, Any]]:
    """Each run's config (without machine paths) and record, small enough to commit; its job
    is `prefix` + the job dir's name (``lr_sweep/3``: the stage of an experiment)."""
    return [
        {
            "job": prefix + run.path.name,
            "config": {k: v for k, v in run.config.items() if k not in ("paths", "ckpt_path")},
            "record": {k: run.record[k] for k in RECORD_KEYS if k in run.record},
        }
        for run in runs
    ]


def write_summary(runs: list[Run] | dict[str, list[Run]], out: Path) -> Path:
    """Write the runs' summary as out/runs.json, which `load_runs(out)` reads back; runs given
    by stage (``{"lr_sweep": [...], ...}``) keep their stage in their job name."""
    stages = runs if isinstance(runs, dict) else {"": runs}
    entries = [
        e
        for stage, members in stages.items()
        for e in summarize(members, f"{stage}/" if stage else "")
    ]
    path = out / SUMMARY
    path.write_text(json.dumps(entries, indent=1) + "\n")
    return path


def load_runs(sweep_dir: Path) -> list[Run]:
    """The jobs of a sweep dir that wrote their metrics, in job order; or, for a dir holding a
    runs.json summary (an experiment's committed results), the runs it summarizes."""
    if (Path(sweep_dir) / SUMMARY).is_file():
        entries = json.loads((Path(sweep_dir) / SUMMARY).read_text())
        return [Run(Path(e["job"]), e["config"], e["record"]) for e in entries]
    sweep_dir = sweep_of(Path(sweep_dir))
    runs = []
    for metrics in sorted(Path(sweep_dir).glob("*/metrics.json"), key=_job_order):
        config_path = metrics.parent / "config.yaml"
        config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
        runs.append(Run(metrics.parent, config, read_record(metrics)))
    if not runs:
        raise FileNotFoundError(f"no finished runs (*/metrics.json) under {sweep_dir}")
    return runs


def _job_order(path: Path) -> tuple[int, str]:
    name = path.parent.name
    return (int(name), name) if name.isdigit() else (sys.maxsize, name)
