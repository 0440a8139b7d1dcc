"""Load the scripts of experiments/ as modules, to call their main() with arguments."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import ROOT


def load(name: str) -> ModuleType:
    """experiments/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(
        f"experiments_{name}", ROOT / "experiments" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
