"""The image files a prediction reads: one file, a folder (searched recursively, as an
ImageFolder's class folder is) or a glob pattern; hidden files and other suffixes are left out."""

from __future__ import annotations

import glob
from pathlib import Path

from torchvision.datasets.folder import IMG_EXTENSIONS

from alexnet.data.folder_scan import hidden, image_files, is_folder
from alexnet.errors import InvalidValue

KEY = "input"


def image_paths(spec: str | Path) -> list[Path]:
    """The image files `spec` names, sorted; InvalidValue naming `input` when there are none."""
    text = str(spec)
    if any(char in text for char in "*?[") and not Path(text).exists():  # a name may hold them
        matched = sorted(Path(p) for p in glob.glob(text, recursive=True))
        found = [p for p in matched if p.is_file() and _is_image(p)]
        if not found:
            raise InvalidValue(KEY, text, f"the pattern matches no image file ({_SUFFIXES})")
        return found
    path = Path(text).expanduser()
    if is_folder(path):
        found = image_files(path)
        if not found:
            raise InvalidValue(KEY, text, f"the folder holds no image file ({_SUFFIXES})")
        return found
    if path.is_file():
        if not _is_image(path):
            raise InvalidValue(KEY, text, f"not an image file by its suffix ({_SUFFIXES})")
        return [path]
    raise InvalidValue(KEY, text, "no such file, folder or matching pattern")


_SUFFIXES = ", ".join(IMG_EXTENSIONS)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMG_EXTENSIONS and not hidden(path.name)
