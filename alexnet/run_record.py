"""A run's record, metrics.json: written and read here, and nowhere else.

It holds the run's status, final metrics, per-epoch history (epoch, step, seconds, train and val
loss and top-1), the overrides it was given and, for a failed run, the error and the last good
checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alexnet.errors import InvalidValue

RECORD = "metrics.json"


def write_record(run_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write `record` as `run_dir`/metrics.json (whole, by an atomic rename)."""
    path = Path(run_dir) / RECORD
    partial = path.with_name(f".{RECORD}.partial")
    partial.write_text(json.dumps(record, indent=2) + "\n")
    partial.replace(path)
    return path


def read_record(run: str | Path) -> dict[str, Any]:
    """The record of a run dir (or of a metrics.json path); a clear error if there is none."""
    path = Path(run)
    path = path / RECORD if path.is_dir() else path
    if not path.is_file():
        raise InvalidValue(
            "run_dir", str(run), f"it has no {RECORD}: not a finished or failed run dir of train.py"
        )
    return json.loads(path.read_text())


def read_history(run: str | Path) -> list[dict[str, Any]]:
    """The per-epoch history of a run dir: a dict per epoch, with its metrics."""
    history = read_record(run).get("history") or []
    if not history:
        raise InvalidValue(
            "run_dir",
            str(run),
            "its metrics.json has no per-epoch history (the run ended before its first epoch did)",
        )
    return history
