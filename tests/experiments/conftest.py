"""Load the scripts of experiments/ as modules, to call their main() with arguments."""

from __future__ import annotations

import importlib.util
from types import ModuleType


def load(name: str) -> ModuleType:
    """experiments/<name>.py, imported as the module experiments.<name>."""
    return importlib.import_module(f"experiments.{name}")
