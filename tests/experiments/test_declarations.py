"""Every declaration in experiments/declarations/ (a protocol committed before its runs) is
valid YAML that says which version it is, that it came before its runs, and what was seen
before it."""

import pytest
import yaml

from tests.conftest import ROOT

DECLARATIONS = sorted((ROOT / "experiments" / "declarations").glob("*.yaml"))


def test_there_are_declarations():
    assert len(DECLARATIONS) >= 6


@pytest.mark.parametrize("path", DECLARATIONS, ids=lambda p: p.name)
def test_each_declaration_parses_and_names_its_version(path):
    declared = yaml.safe_load(path.read_text())
    assert isinstance(declared, dict) and int(declared["version"]) >= 1
    assert "declared_before_runs" in declared or "why" in declared, path.name
