"""The folders a command line names, checked before Hydra uses them (overrides_check.py): the
files of ``--config-dir`` (a YAML syntax error, a file the lab's own shadows) and the output
folder (can it be created?). Each problem is one InvalidValue or one line of reason."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from alexnet.config.compose import CONF_DIR
from alexnet.errors import InvalidValue


def yaml_error(err: yaml.YAMLError, config_dir: str | None) -> InvalidValue:
    """A YAML syntax error: the file, the line and column, and the parser's problem."""
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err).strip().splitlines()[0]
    where = f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}" if mark else "a file"
    return InvalidValue("--config-dir", config_dir, f"a YAML syntax error in {where}: {problem}")


def check_config_dir(config_dir: str, config_name: str) -> None:
    """Refuse a `config_dir` that is no folder, or holds a file that the lab's file of the same
    name shadows: Hydra reads the lab's configs first and would ignore it without a word."""
    root = Path(config_dir)
    if not root.is_dir():
        raise InvalidValue("--config-dir", config_dir, "there is no such folder")
    mine = root / f"{config_name}.yaml"
    if mine.is_file() and (CONF_DIR / mine.name).is_file():
        raise InvalidValue(
            "--config-dir",
            config_dir,
            f"the lab's own {mine.name} shadows {mine} (Hydra reads the lab's): name yours "
            f"otherwise, e.g. my_{config_name}.yaml, start it with "
            f"`defaults: [{config_name}, _self_]` and pass --config-name my_{config_name}",
        )
    for path in sorted(root.glob("*/**/*.yaml")):
        relative = path.relative_to(root)
        if (CONF_DIR / relative).is_file():
            group, option = relative.parent.as_posix(), relative.stem
            raise InvalidValue(
                "--config-dir",
                config_dir,
                f"the lab's own {group}={option} shadows {path} (Hydra reads the lab's): name "
                f"yours otherwise, e.g. {group}/my_{option}.yaml (`defaults: [{option}, "
                f"_self_]` in it starts from the lab's), and pick it with {group}=my_{option}",
            )


def cannot_create(folder: Path) -> str | None:
    """Why `folder` cannot be created (None: it can, or is there). Its nearest existing ancestor
    must be a folder that takes a new folder: tried (root may write where its permissions say
    no, not on a read-only filesystem such as /sys), and removed at once."""
    existing = folder.absolute()
    try:
        while not os.path.lexists(existing):
            existing = existing.parent
        if not existing.is_dir():
            return f"{existing} is not a folder"
        os.rmdir(tempfile.mkdtemp(prefix=".alexnet-check-", dir=existing))
    except OSError as err:
        return f"{err.strerror} (in {existing})"
    return None
