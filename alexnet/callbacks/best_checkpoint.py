"""The best checkpoints by a monitored metric, carried over when a run resumes in a new dir.

Lightning's ModelCheckpoint forgets the scores of the best checkpoints when the checkpoint it
resumes from was written to another folder (the resumed run's first epoch then counts as the
best so far, whatever its score). Here the best files are linked (or copied) into the new run's
folder with their scores, so the resumed run keeps, and tests, the checkpoint the uninterrupted
run would have, and its folder is whole on its own; the old run's files are never touched.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from lightning.pytorch.callbacks import ModelCheckpoint

log = logging.getLogger(__name__)


class BestCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose best files follow a run resumed into another folder."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        old_dir = state_dict.get("dirpath")
        if self.dirpath is None or old_dir is None or Path(old_dir) == Path(self.dirpath):
            super().load_state_dict(state_dict)
            return
        moved = {old: self._carry(Path(old)) for old in state_dict.get("best_k_models", {})}
        moved = {old: new for old, new in moved.items() if new is not None}
        state = dict(state_dict, dirpath=self.dirpath, last_model_path="")
        state["best_k_models"] = {
            moved[o]: s for o, s in state.get("best_k_models", {}).items() if o in moved
        }
        for key in ("best_model_path", "kth_best_model_path"):
            state[key] = moved.get(state.get(key, ""), state.get(key, ""))
        if not state["best_k_models"]:  # nothing to carry: start afresh, as Lightning does
            state["best_model_score"], state["kth_value"] = None, state_dict.get("kth_value")
        super().load_state_dict(state)

    def _carry(self, old: Path) -> str | None:
        """`old` linked (or copied) into this run's folder; None if it is gone."""
        if not old.is_file():
            return None
        new = Path(self.dirpath) / old.name
        if not new.exists():
            new.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(old, new)
            except OSError:  # another filesystem, or no hard links there
                shutil.copy2(old, new)
            log.info("Carried the best checkpoint %s over to %s", old, new)
        return str(new)
