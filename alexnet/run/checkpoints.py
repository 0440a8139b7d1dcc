"""Checkpoint files: written atomically, found in a run dir, checked before a run resumes."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO

from alexnet.atomic_files import written_whole
from alexnet.errors import InvalidValue
from alexnet.run.stop_reasons import no_space


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file of this process beside it, flushes it to disk
    and renames it into place, so that a kill during a save leaves the previous checkpoint
    whole; a failed save removes its temporary file (on a full disk, that frees its space) and
    a full disk is reported as the OSError it is (torch says "unexpected pos")."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any | None = None
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with written_whole(path) as stream:
                torch.save(checkpoint, stream)
        except BaseException as err:
            full = no_space(err)
            if full is not None and full is not err:
                raise OSError(full.errno, full.strerror, str(path)) from err
            raise


def resolve_checkpoint(value: str | Path) -> Path:
    """A checkpoint file, or the newest checkpoint of a run dir: in its checkpoints/ dir, or
    (a run without our checkpoint callbacks, callbacks=none) Lightning's own, under the
    logger's dir (tensorboard/checkpoints/, or tensorboard/<version>/checkpoints/ in a sweep)."""
    path = Path(value)
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        found = (
            list(folder.glob("*.ckpt"))
            or list(path.glob("*/checkpoints/*.ckpt"))  # a single run's logger dir
            or list(path.glob("*/*/checkpoints/*.ckpt"))  # a sweep job's: its version dir
        )
        found.sort(key=lambda p: p.stat().st_mtime)
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
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        held = type(checkpoint).__name__
        if (
            isinstance(checkpoint, dict)
            and checkpoint
            and all(isinstance(v, torch.Tensor) for v in checkpoint.values())
        ):
            held = "a bare state_dict"
        raise InvalidValue(
            "ckpt_path",
            str(path),
            f"it holds {held}, not a Lightning checkpoint of this project (to start from a "
            "state_dict's weights, set model.weights=PATH instead)",
        )
    if "pytorch-lightning_version" not in checkpoint:
        raise InvalidValue(
            "ckpt_path",
            str(path),
            "it holds a state_dict saved outside Lightning, not a checkpoint of this project "
            "(to start from its weights, set model.weights=PATH instead)",
        )


def _reason(err: Exception) -> str:
    """The informative line of a loading error (for weights-only refusals: the unsafe global)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    unsafe = [line for line in lines if "Unsupported global" in line]
    return (unsafe or lines or [""])[0][:200]
