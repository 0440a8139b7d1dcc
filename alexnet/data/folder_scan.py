"""Listing an ImageFolder root that may hold entries nobody can read, or links out of it.

A class folder or an image behind a broken symbolic link, an entry that cannot be looked at
(permission denied, or any other error of the filesystem), or a symbolic link loop is skipped
with one warning naming it; a root with nothing readable left is one DataError line. Every
folder is entered once (by device and inode); a symbolic link to the folder being scanned or one
above it (the root, /) or into /proc or /sys is not followed; the scan below a class folder is
bounded in depth and in folders entered (over either: one DataError line). Hidden entries (a
name starting with a dot: .ipynb_checkpoints, ._photo.jpg) are neither classes nor images.
Names are shown escaped (alexnet/data/names.py).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
from pathlib import Path

from torchvision.datasets.folder import IMG_EXTENSIONS

from alexnet.data.names import shown
from alexnet.errors import DataError

log = logging.getLogger(__name__)

MAX_DEPTH = 32  # folders below a class folder
MAX_FOLDERS = 100_000  # folders entered below one class folder
PSEUDO_FILESYSTEMS = ("/proc", "/sys")  # never images; /proc/self/root leads back to /


def hidden(name: str) -> bool:
    """A hidden entry (its name starts with a dot): never a class, never an image."""
    return name.startswith(".")


@functools.cache
def _pseudo_devices() -> dict[int, str]:
    """The devices of the kernel's pseudo-filesystems mounted here, by device number."""
    found = {}
    for mount in PSEUDO_FILESYSTEMS:
        try:
            if os.path.ismount(mount):
                found[os.stat(mount).st_dev] = mount
        except OSError:
            continue
    return found


def _reason(err: OSError) -> str:
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return shown(err.strerror or err)


def _why_unreadable(path: Path) -> str | None:
    """Why `path` (a folder entry) cannot be used, or None."""
    try:
        if path.is_symlink() and not path.exists():
            try:
                path.resolve(strict=True)
            except RuntimeError:  # Python < 3.13 reports a loop this way
                return "a symbolic link loop"
            except OSError as err:
                loop = err.errno == errno.ELOOP
                return "a symbolic link loop" if loop else "a broken symbolic link"
            return "a broken symbolic link"
        if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
            return "permission denied"
    except OSError as err:  # e.g. PermissionError from is_dir (Python 3.11, 3.12)
        return _reason(err)
    return None


def _why_not_followed(path: Path, holders: set[Path]) -> str | None:
    """Why the folder `path` is not entered: a symbolic link to one of `holders` (resolved
    folders) or to a folder above one, or into a kernel pseudo-filesystem; else None."""
    try:
        if not path.is_symlink():
            return None
        target = path.resolve(strict=True)
        device = target.stat().st_dev
    except (OSError, RuntimeError) as err:
        return _reason(err) if isinstance(err, OSError) else "a symbolic link loop"
    if any(target == holder or target in holder.parents for holder in holders):
        return f"a symbolic link loop (to {shown(target)}, a folder holding it: not followed)"
    if device in _pseudo_devices():
        mount = _pseudo_devices()[device]
        return f"a symbolic link into {mount} (to {shown(target)}: not followed)"
    return None


def is_folder(path: Path) -> bool:
    """Whether `path` is a folder (False where it cannot be looked at)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def class_folders(root: Path) -> list[str]:
    """The readable class folders of `root`, sorted; the others skipped with a warning."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
        holders = {root.resolve()}
    except OSError as err:
        why = shown(err.strerror or err)
        raise DataError(f"data root {shown(root)} cannot be read ({why})") from None
    classes, skipped = [], []
    ignored = [entry.name for entry in entries if hidden(entry.name)]
    if ignored:
        names = ", ".join(shown(name) for name in ignored)
        log.debug("data root %s: hidden entries ignored: %s", shown(root), names)
    for entry in entries:
        path = Path(entry.path)
        if hidden(entry.name):
            continue
        why = _why_unreadable(path)
        if why is None and is_folder(path):
            why = _why_not_followed(path, holders)
            if why is None:
                classes.append(entry.name)
        if why is not None:
            skipped.append(f"{shown(entry.name)} ({why})")
            log.warning("data root %s: skipped %s: %s", shown(root), shown(path), why)
    if not classes and skipped:
        raise DataError(
            f"data root {shown(root)} has no readable class folders (expected "
            f"{shown(root)}/<class>/*.jpg; skipped: {', '.join(skipped)})"
        )
    if not classes:
        raise DataError(
            f"data root {shown(root)} has no class folders (expected {shown(root)}/<class>/*.jpg)"
        )
    return classes


def image_files(
    folder: Path, max_depth: int = MAX_DEPTH, max_folders: int = MAX_FOLDERS
) -> list[Path]:
    """The image files under the class folder `folder` (symbolic links followed, but never to
    a folder holding them; each folder entered once), in torchvision's ImageFolder order (by
    folder, then name); unreadable entries skipped with a warning. Deeper than `max_depth`
    folders, or more than `max_folders` entered: one DataError line."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    pending = [(folder, 0)]
    limit = f"data root {shown(folder.parent)}: the scan of {shown(folder)}"
    hidden_count = 0
    while pending:
        current, depth = pending.pop()
        if depth > max_depth:
            raise DataError(
                f"{limit} went deeper than {max_depth} folders below it (the limit; a symbolic "
                "link to a large tree?)"
            )
        try:
            info = current.stat()
            entries = sorted(os.scandir(current), key=lambda e: e.name)
            holders = {folder.parent.resolve(), current.resolve()}
        except (OSError, RuntimeError) as err:
            why = _reason(err) if isinstance(err, OSError) else "a symbolic link loop"
            log.warning("skipped %s: %s", shown(current), why)
            continue
        if (info.st_dev, info.st_ino) in seen:
            log.warning("skipped %s: a symbolic link loop (entered already)", shown(current))
            continue
        seen.add((info.st_dev, info.st_ino))
        if len(seen) > max_folders:
            raise DataError(
                f"{limit} entered more than {max_folders:,} folders (the limit; a symbolic "
                "link to a large tree?)"
            )
        for entry in entries:
            path = Path(entry.path)
            if hidden(entry.name):
                hidden_count += 1
                continue
            why = _why_unreadable(path)
            if why is None and is_folder(path):
                why = _why_not_followed(path, holders)
                if why is None:
                    pending.append((path, depth + 1))
            elif why is None and path.suffix.lower() in IMG_EXTENSIONS:
                found.append(path)
            if why is not None:
                log.warning("skipped %s: %s", shown(path), why)
    if hidden_count:
        log.debug("%s: %d hidden entries ignored", shown(folder), hidden_count)
    return sorted(found, key=lambda path: (str(path.parent), path.name))
