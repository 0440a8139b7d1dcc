"""Listing an ImageFolder root that may hold entries nobody can read.

A class folder or an image behind a broken symbolic link, a folder without read permission, or a
symbolic link loop is skipped with one warning naming it; a root with nothing readable left is
one DataError line. Every folder is entered once (by device and inode), so a loop ends.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

from torchvision.datasets.folder import IMG_EXTENSIONS

from alexnet.errors import DataError

log = logging.getLogger(__name__)


def _why_unreadable(path: Path) -> str | None:
    """Why `path` (a folder entry) cannot be used, or None."""
    if path.is_symlink() and not path.exists():
        try:
            path.resolve(strict=True)
        except RuntimeError:  # Python < 3.13 reports a loop this way
            return "a symbolic link loop"
        except OSError as err:
            return "a symbolic link loop" if err.errno == errno.ELOOP else "a broken symbolic link"
        return "a broken symbolic link"
    if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
        return "permission denied"
    return None


def class_folders(root: Path) -> list[str]:
    """The readable class folders of `root`, sorted; the others skipped with a warning."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as err:
        raise DataError(f"data root {root} cannot be read ({err.strerror})") from None
    classes, skipped = [], []
    for entry in entries:
        why = _why_unreadable(Path(entry.path))
        if why is not None:
            skipped.append(f"{entry.name} ({why})")
            log.warning("data root %s: skipped %s: %s", root, entry.path, why)
        elif Path(entry.path).is_dir():
            classes.append(entry.name)
    if not classes and skipped:
        raise DataError(
            f"data root {root} has no readable class folders (expected "
            f"{root}/<class>/*.jpg; skipped: {', '.join(skipped)})"
        )
    if not classes:
        raise DataError(f"data root {root} has no class folders (expected {root}/<class>/*.jpg)")
    return classes


def image_files(folder: Path) -> list[Path]:
    """The image files under `folder` (symbolic links followed, each folder entered once), in
    torchvision's ImageFolder order (by folder, then name); unreadable entries skipped with a
    warning."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            info = current.stat()
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as err:
            log.warning("skipped %s: %s", current, err.strerror or err)
            continue
        if (info.st_dev, info.st_ino) in seen:
            log.warning("skipped %s: a symbolic link loop (entered already)", current)
            continue
        seen.add((info.st_dev, info.st_ino))
        for entry in entries:
            path = Path(entry.path)
            why = _why_unreadable(path)
            if why is not None:
                log.warning("skipped %s: %s", path, why)
            elif path.is_dir():
                pending.append(path)
            elif path.suffix.lower() in IMG_EXTENSIONS:
                found.append(path)
    return sorted(found, key=lambda path: (str(path.parent), path.name))
