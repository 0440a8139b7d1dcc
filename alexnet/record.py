"""A run's record, metrics.json: written and read here, and nowhere else.

It holds the run's status, final metrics, per-epoch history (epoch, step, seconds, train and val
loss and top-1), the overrides it was given and, for a failed run, the error and the last good
checkpoint.
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
