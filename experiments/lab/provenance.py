"""How a result was made: the command, the code, the library versions and the machine."""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the checkout holding the package
PACKAGES = ("torch", "torchvision", "lightning", "hydra-core", "numpy", "pillow", "torchcodec")


def git_state(root: Path = ROOT, exclude: Path | None = None) -> dict[str, Any]:
    """The commit checked out at `root` and whether tracked files differ from it (outside
    `exclude`, an experiment's own output dir)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    pathspec = []
    if exclude is not None and Path(exclude).resolve().is_relative_to(root.resolve()):
        pathspec = ["--", ".", f":(exclude){Path(exclude).resolve().relative_to(root.resolve())}"]
    changes = git("status", "--porcelain", "--untracked-files=no", *pathspec)
    return {"commit": commit, "dirty": bool(changes) if changes is not None else None}


def first_commit(path: Path, root: Path = ROOT, newest: bool = False) -> str | None:
    """The commit that first added `path` to the history at `root` (None: not committed, or no
    history here): a declaration's commit, or a result's first; `newest`: the latest commit
    that added it (a result moved away and made anew)."""
    found = _commits(root, "--diff-filter=A", "--", str(path))
    return (found[0] if newest else found[-1]) if found else None


def commit_adding(path: Path, text: str, root: Path = ROOT) -> str | None:
    """The first commit whose change to `path` added `text` (git log -S): the commit that
    declared a claims file's version, say. None: not committed, or no history here."""
    found = _commits(root, f"-S{text}", "--", str(path))
    return found[-1] if found else None


def _commits(root: Path, *args: str) -> list[str]:
    """`git log`'s commits for `args`, newest first; none without git or history (30 s bound)."""
    try:
        done = subprocess.run(
            ["git", "log", "--format=%H", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return done.stdout.split() if done.returncode == 0 else []


def machine() -> dict[str, Any]:
    """CPU model and cores, GPU model (if any), operating system."""
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": gpu,
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    """Python's and the main libraries' versions."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def command_line(argv: list[str] | None = None) -> str:
    """This process's command, as typed (``python -m experiments.x --size cpu``, or a script
    relative to the project root where it can be)."""
    argv = list(sys.argv if argv is None else argv)
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if argv is sys.argv or argv == sys.argv:
        if spec is not None and spec.name and not spec.name.endswith("pytest.__main__"):
            return shlex.join(["python", "-m", spec.name.removesuffix(".__main__"), *argv[1:]])
    script = Path(argv[0]).resolve() if argv else None
    if script is not None and script.is_relative_to(ROOT):
        argv[0] = str(script.relative_to(ROOT))
    return shlex.join(["python", *argv])


def collect(
    seeds: list[int],
    wall_time_s: float,
    command: str | None = None,
    git: dict[str, Any] | None = None,
    out: Path | None = None,
) -> dict[str, Any]:
    """The record of one experiment: command, commit (dirty or not), versions, machine, seeds and
    wall time. `git` is the state taken before the experiment started; the tree is read again
    now (outside `out`), and a change of commit or files meanwhile marks the record dirty (the
    jobs may have imported changed code)."""
    end = git_state(exclude=out)
    start = git or end
    changed = start["commit"] != end["commit"] or (bool(end["dirty"]) and not start["dirty"])
    record = {
        "command": command or command_line(),
        "commit": start["commit"],
        "dirty": bool(start["dirty"] or end["dirty"]),
        "versions": versions(),
        "machine": machine(),
        "seeds": seeds,
        "wall_time_s": round(wall_time_s, 1),
    }
    if changed:
        record["changed_during_run"] = True
    return record


def write_provenance(out: Path, record: dict[str, Any]) -> Path:
    """Write `record` as out/provenance.json."""
    path = out / "provenance.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def mark_report(out: Path) -> None:
    """Add to out/provenance.json the command and commit that re-made the report from runs
    made earlier (the training's commit stays beside it)."""
    record = read_provenance(out)
    if record is None:
        return
    git = git_state(exclude=out)
    record["report"] = {
        "command": command_line(),
        "commit": git["commit"],
        "dirty": bool(git["dirty"]),
    }
    write_provenance(out, record)


def read_provenance(out: Path) -> dict[str, Any] | None:
    """out/provenance.json, if there is one."""
    path = out / "provenance.json"
    return json.loads(path.read_text()) if path.is_file() else None


REMADE = "Report re-made from these runs by"


def provenance_markdown(record: dict[str, Any] | None) -> str:
    """A few lines saying how the numbers beside them were made."""
    if not record:
        return "_No provenance record (provenance.json) was found for these runs._\n"
    dirty = " (with uncommitted changes)" if record.get("dirty") else ""
    if record.get("changed_during_run"):
        dirty = " (the code changed while it ran)"
    libs = ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())
    box = record.get("machine", {})
    gpu = box.get("gpu") or "no GPU"
    seconds = record.get("wall_time_s", 0)
    took = f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
    seeds = f", seeds {record['seeds']}" if record.get("seeds") else ""
    made = (
        f"Made by `{record.get('command')}` at commit `{str(record.get('commit'))[:10]}`"
        f"{dirty}{seeds}, in {took} on {box.get('cpu')} ({box.get('cores')} cores, {gpu}); "
        f"{libs}.\n"
    )
    report = record.get("report")
    if report:
        made += (
            f"{REMADE} `{report['command']}` at commit `{str(report['commit'])[:10]}`"
            f"{' (with uncommitted changes)' if report.get('dirty') else ''}.\n"
        )
    return made


@contextmanager
def recorded(out: Path, seeds: list[int] | None = None) -> Iterator[None]:
    """Write out/provenance.json for what runs inside the block (git state taken before it)."""
    git, started = git_state(exclude=out), time.perf_counter()
    yield
    write_provenance(
        out, collect(list(seeds or []), time.perf_counter() - started, git=git, out=out)
    )
