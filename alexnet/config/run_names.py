"""The name a run goes by in TensorBoard, MLflow and W&B: the overrides that make it this run.

In a sweep, that is the job's values of what the sweep varies (``activation=tanh,dropout=none``):
the keys swept on the command line (as <sweep dir>/multirun.yaml records them) and the keys of the
sweeper's search space (``hydra.sweeper.params``, Optuna's). In a single run it is all of its
overrides. Keys listed in ``hydra.job.config.override_dirname.exclude_keys``, and keys under them
(``logger`` drops ``logger.mlflow.tracking_uri`` too), are left out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from hydra.types import RunMode

MAX_LENGTH = 200  # a directory name: filesystems allow 255 bytes
UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')  # not in a file name on Linux, macOS or Windows


def run_name(run_dir: str = "") -> str:
    """This Hydra job's name from its overrides; without any (or outside Hydra), the name of
    `run_dir` (the run dir's time stamp, a sweep job's number)."""
    fallback = Path(run_dir).name if run_dir else ""
    if not HydraConfig.initialized():
        return fallback
    hydra = HydraConfig.get()
    settings = hydra.job.config.override_dirname
    kept = [
        (key, line)
        for key, line, _ in _parse(hydra.overrides.task)
        if not _excluded(key, settings.exclude_keys)
    ]
    if hydra.mode == RunMode.MULTIRUN:
        varied = _swept_keys(hydra)
        kept = [(key, line) for key, line in kept if key in varied] or kept
    lines = sorted(line.replace("=", settings.kv_sep, 1) for _, line in kept)
    return safe_name(settings.item_sep.join(lines)) or fallback


def sweep_run_name() -> str:
    """`run_name` in a sweep (the job number when the job has no overrides); "" in a single run,
    whose TensorBoard events stay directly in <run dir>/tensorboard."""
    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return ""
    return run_name(str(HydraConfig.get().job.num))


def safe_name(name: str) -> str:
    """`name` as one file name: path separators and other unsafe characters become ``_``; a name
    over MAX_LENGTH characters is cut and ends with a hash of the whole."""
    name = UNSAFE.sub("_", name)
    if len(name) > MAX_LENGTH:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_LENGTH - 9]}-{digest}"
    return name


def _swept_keys(hydra: Any) -> set[str]:
    """The keys the sweep varies: its command-line sweeps and the sweeper's search space."""
    params = getattr(getattr(hydra, "sweeper", None), "params", None) or {}
    keys = {str(key) for key in params}
    multirun = Path(hydra.sweep.dir) / "multirun.yaml"
    if multirun.is_file():
        saved = yaml.safe_load(multirun.read_text()) or {}
        task = ((saved.get("hydra") or {}).get("overrides") or {}).get("task") or []
        keys |= {key for key, _, sweep in _parse(task) if sweep}
    return keys


def _parse(overrides: Iterable[str]) -> list[tuple[str, str, bool]]:
    """(key, override as typed, is a sweep) for each override."""
    parser = OverridesParser.create()
    parsed = []
    for line in overrides:
        try:
            (override,) = parser.parse_overrides([str(line)])
        except OverrideParseException:
            continue
        parsed.append((override.key_or_group, str(line), override.is_sweep_override()))
    return parsed


def _excluded(key: str, exclude_keys: Iterable[str]) -> bool:
    return any(key == ex or key.startswith((f"{ex}.", f"{ex}/")) for ex in ("hydra", *exclude_keys))
