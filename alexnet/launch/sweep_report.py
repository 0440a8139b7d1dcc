"""A Hydra callback: when a sweep ends, list every job with its status and metric
(sweep.md, sweep.json)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from alexnet.tables import markdown_table

log = logging.getLogger(__name__)


def sweep_jobs(sweep_dir: Path, metric: str | None = None) -> list[dict[str, Any]]:
    """Every job dir of `sweep_dir`: its number, the overrides that vary between the jobs, its
    status, error and metric."""
    jobs = []
    for job in sorted(
        (p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()),
        key=lambda p: int(p.name),
    ):
        metrics_file = job / "metrics.json"
        record = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        overrides = record.get("overrides") or _hydra_overrides(job)
        jobs.append(
            {
                "job": int(job.name),
                "overrides": overrides,
                "status": record.get("status", "failed (no metrics.json)"),
                metric or "metric": (record.get("metrics") or {}).get(metric or ""),
                "error": (record.get("error") or "")[:120],
            }
        )
    shared = set.intersection(*(set(j["overrides"]) for j in jobs)) if len(jobs) > 1 else set()
    for job in jobs:
        job["overrides"] = " ".join(o for o in job["overrides"] if o not in shared)
    return jobs


def _hydra_overrides(job: Path) -> list[str]:
    path = job / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    return [line[2:].strip() for line in path.read_text().splitlines() if line.startswith("- ")]


class SweepReport(Callback):
    """Writes sweep.md and sweep.json (every job, its overrides, status and metric) into the sweep
    dir and logs the table."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        jobs = sweep_jobs(sweep_dir, config.get("optimized_metric"))
        failed = sum(job["status"] != "completed" for job in jobs)
        (sweep_dir / "sweep.json").write_text(json.dumps(jobs, indent=2) + "\n")
        table = markdown_table(jobs)
        (sweep_dir / "sweep.md").write_text(table)
        log.info(
            "Sweep finished: %d jobs, %d completed, %d failed; %s\n%s",
            len(jobs),
            len(jobs) - failed,
            failed,
            sweep_dir / "sweep.md",
            table,
        )
