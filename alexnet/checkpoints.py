"""Checkpoint files: written atomically, found in a run dir, checked before a run resumes."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO

from alexnet.errors import InvalidValue


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file beside it, flushes it to disk and renames it
    into place, so that a kill during a save leaves the previous checkpoint whole."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "wb") as handle:
            torch.save(checkpoint, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)


def resolve_checkpoint(value: str | Path) -> Path:
    """A checkpoint file, or the newest checkpoint of a run dir (or of its checkpoints/ dir)."""
    path = Path(value)
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        found = sorted(folder.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise InvalidValue("ckpt_path", str(value), f"no *.ckpt file in {folder}")
        return found[-1]
    if not path.is_file():
        raise InvalidValue("ckpt_path", str(value), "no such checkpoint file or run dir")
    return path


def check_checkpoint(path: Path) -> None:
    """Fail with a clear message if `path` is not a whole, weights-only-loadable checkpoint."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
        if broken is not None:
            raise ValueError(f"the entry {broken} is corrupt")
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any failure to read means the same to the user
        reason = _reason(err)
        raise InvalidValue(
            "ckpt_path",
            str(path),
            f"it is not a readable checkpoint: truncated, "
            f"corrupt or not a Lightning checkpoint ({type(err).__name__}: "
            f"{reason})",
        ) from None
    if "state_dict" not in checkpoint:
        raise InvalidValue(
            "ckpt_path",
            str(path),
            "it holds no state_dict: not a Lightning checkpoint of this project",
        )


def _reason(err: Exception) -> str:
    """The informative line of a loading error (for weights-only refusals: the unsafe global)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    unsafe = [line for line in lines if "Unsupported global" in line]
    return (unsafe or lines or [""])[0][:200]
