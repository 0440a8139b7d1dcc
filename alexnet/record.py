"""A run's record, metrics.json: its shapes made, written and read here, and nowhere else.

It holds the run's status, final metrics, per-epoch history (epoch, step, seconds, train and val
loss and top-1), the overrides it was given and, for a failed run, the error and the last good
checkpoint. A training run's record starts as `started` (the run updates it as it ends), an
evaluation's is `evaluated`, a job that failed before its run began is `failed`, and a job its
launcher saw die says so with `mark_failed`.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from alexnet.atomic_files import written_whole
from alexnet.errors import InvalidValue

RECORD = "metrics.json"
RESERVE = ".metrics.reserve"  # space kept free for the record while a run runs
RESERVE_BYTES = 1 << 20


def started(overrides: list[str], **details: Any) -> dict[str, Any]:
    """A training run's record as it starts: running, with its overrides and `details` (where
    it resumed from, its requeues, its config groups' choices, its device slot)."""
    return {"status": "running", **details, "overrides": list(overrides)}


def evaluated(
    checkpoint: str, split: str, eval_crop: str, metrics: dict[str, float], overrides: list[str]
) -> dict[str, Any]:
    """An evaluation's record: the checkpoint, the split and crop, the metrics."""
    return {
        "status": "completed",
        "checkpoint": checkpoint,
        "split": split,
        "eval_crop": eval_crop,
        "metrics": metrics,
        "overrides": list(overrides),
    }


def failed(error: str, overrides: list[str]) -> dict[str, Any]:
    """The record of a job that failed before its run began (a bad setting, a missing file)."""
    return {"status": "failed", "error": error, "metrics": {}, "overrides": list(overrides)}


def mark_failed(run_dir: str | Path, error: str) -> None:
    """A job its launcher saw die: its record says failed, with `error`, unless the job already
    said why itself (failed or terminated)."""
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    record = read_record(folder) if (folder / RECORD).is_file() else {}
    if record.get("status") in ("failed", "terminated"):
        return
    record.update(status="failed", error=error)
    write_record(folder, record)


def write_record(run_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write `record` as `run_dir`/metrics.json, whole (a temporary file of this process,
    renamed into place). On a full disk the run dir's reserve is given up for it."""
    path = Path(run_dir) / RECORD
    text = json.dumps(record, indent=2) + "\n"
    try:
        _write_whole(path, text)
    except OSError as err:
        reserve = path.with_name(RESERVE)
        if err.errno not in (errno.ENOSPC, errno.EDQUOT) or not reserve.exists():
            raise
        reserve.unlink()
        _write_whole(path, text)
    return path


def reserve_space(run_dir: str | Path) -> bool:
    """Keep RESERVE_BYTES of the disk for the run's record (incompressible bytes, so that no
    filesystem stores them in less); False if the disk has not even that."""
    try:
        _write_whole(Path(run_dir) / RESERVE, os.urandom(RESERVE_BYTES))
    except OSError:
        return False
    return True


def release_space(run_dir: str | Path) -> None:
    (Path(run_dir) / RESERVE).unlink(missing_ok=True)


def _write_whole(path: Path, content: str | bytes) -> None:
    with written_whole(path) as stream:
        stream.write(content.encode() if isinstance(content, str) else content)


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
