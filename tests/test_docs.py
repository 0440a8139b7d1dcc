"""The README and docs/ as a reader meets them: rendered as CommonMark, the README's commands are
code blocks (its test command is CI's), every relative link lands on a file of the checkout, and
no command names a way to run the experiments that no longer works."""

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def code_blocks(path: Path) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(path.read_text())
    return [t.content for t in tokens if t.type in ("code_block", "fence")]


def test_the_quick_start_commands_are_code_blocks_and_the_test_command_is_cis():
    blocks = code_blocks(ROOT / "README.md")
    assert "pip install -e . && python train.py\n" in blocks
    tests = next(b for b in blocks if "python -m pytest" in b)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] in tests and all(
        step in tests for step in ("ruff check .", "ruff format --check .")
    )


def test_the_readme_is_a_newcomers_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    heads = [line for line in lines if line.startswith("## ")]
    assert heads[0] == "## Quick start"
    for topic in ("Sweep", "GPUs and SLURM", "Real data", "TensorBoard"):
        assert f"## {topic}" in heads


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_lands_on_a_file(page):
    tokens = MarkdownIt("commonmark").parse(page.read_text())
    links = [
        child.attrs["href"]
        for token in tokens
        if token.type == "inline"
        for child in token.children or []
        if child.type == "link_open"
    ]
    broken = [
        href
        for href in links
        if not re.match(r"[a-z]+://|#", href) and not (page.parent / href.split("#")[0]).exists()
    ]
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_command_runs_an_experiment_by_its_path(page):
    stale = [b for b in code_blocks(page) if re.search(r"python3? experiments/\w+\.py", b)]
    assert not stale, stale
