"""What a checkpoint carries for those who use the model later (predict, export): the class
names in the head's order, the lab's version and the commit it was trained at."""

from __future__ import annotations

import functools
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import lightning as L

KEY = "model_card"
GIT_TIMEOUT_S = 10.0


@functools.cache
def lab_commit() -> str | None:
    """The commit of the checkout the lab runs from (``-dirty`` with uncommitted changes);
    None for an installed wheel (even inside another repository), without git, or past
    GIT_TIMEOUT_S."""
    package = Path(__file__).resolve().parents[1]
    try:
        top = _git(package, "rev-parse", "--show-toplevel")
        if top is None or Path(top).resolve() / "alexnet" != package:
            return None  # installed inside some other repository: not the lab's commit
        return _git(package, "describe", "--always", "--dirty", "--abbrev=40")
    except (OSError, subprocess.TimeoutExpired):
        return None


def _git(where: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S
    )
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def lab_version() -> str | None:
    """The installed alexnet-lab's version (None when it runs from a bare checkout)."""
    try:
        return version("alexnet-lab")
    except PackageNotFoundError:
        return None


class ModelCard(L.Callback):
    """Writes ``model_card`` into every checkpoint: ``class_names`` (the datamodule's, in the
    head's order), ``commit`` and ``lab_version``."""

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        datamodule = getattr(trainer, "datamodule", None)
        checkpoint[KEY] = {
            "class_names": list(getattr(datamodule, "classes", None) or []),
            "commit": lab_commit(),
            "lab_version": lab_version(),
        }
