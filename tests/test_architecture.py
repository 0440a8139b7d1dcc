"""docs/architecture.md's floors hold: every file of the package is in one room of its table,
and a room imports only rooms on lower floors (its own files aside), lazy imports included."""

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOC = ROOT / "docs" / "architecture.md"


def floors() -> dict[str, int]:
    """Room (a file, or a folder ending in /) -> its floor, from the doc's table."""
    rooms = {}
    for line in DOC.read_text().splitlines():
        found = re.match(r"\|\s*(\d+)\s*\|([^|]*)\|", line)
        if found:
            for room in re.findall(r"`([^`]+)`", found.group(2)):
                rooms[room] = int(found.group(1))
    return rooms


def room_of(path: str, rooms: dict[str, int]) -> str | None:
    matches = [r for r in rooms if path == r or (r.endswith("/") and path.startswith(r))]
    return max(matches, key=len) if matches else None


def module_file(name: str) -> str | None:
    """alexnet.data.loaders -> alexnet/data/loaders.py (or a package's __init__.py)."""
    base = ROOT / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(ROOT).as_posix()
    return None


def imports(path: Path) -> set[str]:
    """The alexnet modules a file imports, anywhere in it (a lazy import inside a function too;
    `from alexnet.x import y` counts alexnet.x.y where y is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "alexnet"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "alexnet":
                found.add(node.module)
                found |= {
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if module_file(f"{node.module}.{a.name}")
                }
    return found


FILES = sorted(p for p in (ROOT / "alexnet").rglob("*.py"))


def test_the_table_names_rooms_on_floors():
    rooms = floors()
    assert len(rooms) >= 15 and max(rooms.values()) <= 10  # at most 10 floors
    missing = [r for r in rooms if not (ROOT / r).exists()]
    assert not missing, f"rooms in {DOC.name} that are not in the tree: {missing}"


def test_every_file_of_the_package_is_in_a_room():
    rooms = floors()
    homeless = [p.relative_to(ROOT).as_posix() for p in FILES]
    homeless = [p for p in homeless if room_of(p, rooms) is None]
    assert not homeless, f"files in no room of {DOC.name}: {homeless}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_import_runs_up_or_sideways(path):
    rooms = floors()
    here = path.relative_to(ROOT).as_posix()
    mine = room_of(here, rooms)
    wrong = []
    for name in sorted(imports(path)):
        target = module_file(name)
        theirs = room_of(target, rooms) if target else None
        if theirs is None or theirs == mine:
            continue
        if rooms[theirs] >= rooms[mine]:
            wrong.append(f"{name} ({theirs}, floor {rooms[theirs]})")
    assert not wrong, f"{here} (floor {rooms[mine]}) imports up or sideways: {wrong}"


def test_the_package_never_imports_the_experiments():
    found = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "experiments"]
    assert not found


def test_the_suite_mirrors_the_package():
    """tests/<room>/ for each room of the package it tests, tests/experiments/ for the lab's
    experiments, helpers in tests/support/; at the top only the tests of the whole project."""
    rooms = {p.name for p in (ROOT / "alexnet").iterdir() if (p / "__init__.py").is_file()}
    folders = {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").is_file()}
    assert folders <= rooms | {"experiments", "support"}, folders - rooms
    top = {p.name for p in (ROOT / "tests").glob("test_*.py")}
    assert top == {"test_architecture.py", "test_docs.py", "test_package.py"}, top


def test_no_file_is_over_300_lines():
    files = [p for part in ("alexnet", "experiments", "tests") for p in (ROOT / part).rglob("*.py")]
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in files
        if (n := len(p.read_text().splitlines())) > 300
    }
    assert not long, long
