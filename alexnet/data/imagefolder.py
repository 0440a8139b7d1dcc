"""Real images in ImageFolder layout: root/train/<class>/*, root/val/<class>/* (or one folder,
split), and how an unreadable or oversized file is refused: over data.max_image_pixels as
stored, or once resized to the pipeline's shorter side (a 200000x1 strip resized to 256 would be
13 billion pixels). Images are turned upright by their EXIF orientation."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from torch.utils.data import Dataset, Subset
from torchvision import transforms as v1
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from alexnet.data.folder_scan import class_folders, image_files, is_folder
from alexnet.data.names import class_difference, shown
from alexnet.errors import DataError, check_choice, check_number

log = logging.getLogger(__name__)
BAD_FILE_POLICIES = ("skip", "fail")

# Pillow's own limit (it warns above it and refuses twice it): the default of
# data.max_image_pixels. An image over the limit is never decoded.
PILLOW_MAX_PIXELS: int = Image.MAX_IMAGE_PIXELS or 89_478_485


class ImageTooLarge(ValueError):
    """An image with more pixels than data.max_image_pixels: a possible decompression bomb."""


def resized_size(width: int, height: int, side: int | None) -> tuple[int, int] | None:
    """(width, height) once the shorter side is resized to `side`, as torchvision does."""
    if side is None or min(width, height) <= 0:
        return None
    longer = int(side * max(width, height) / min(width, height))
    return (longer, side) if width >= height else (side, longer)


def resize_side(*transforms: Callable | None) -> int | None:
    """The largest shorter-side resize among the Resize steps of `transforms` (v2.Compose),
    None without one: what a loaded image is resized to."""
    sizes = [
        [step.size] if isinstance(step.size, int) else list(step.size or [])
        for transform in transforms
        for step in getattr(transform, "transforms", [])
        if isinstance(step, (v2.Resize, v1.Resize))
    ]
    return max((size[0] for size in sizes if len(size) == 1), default=None)


def open_checked(
    path: str, max_pixels: int = PILLOW_MAX_PIXELS, resize_side: int | None = None
) -> Image.Image:
    """Open `path` lazily (its header only) and refuse it, undecoded, if it has more than
    `max_pixels` pixels, as stored or once resized to `resize_side` on its shorter side
    (Pillow's own check is set aside for the header read: this one takes its place)."""
    pillow_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_limit
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageTooLarge(
            f"{width}x{height} = {width * height:,} pixels, over "
            f"data.max_image_pixels={max_pixels:,} (a possible decompression "
            "bomb; not decoded)"
        )
    resized = resized_size(width, height, resize_side)
    if resized is not None and resized[0] * resized[1] > max_pixels:
        image.close()
        raise ImageTooLarge(
            f"{width}x{height} = {width * height:,} pixels, resized to {resize_side} on its "
            f"shorter side: {resized[0]}x{resized[1]} = {resized[0] * resized[1]:,} pixels, "
            f"over data.max_image_pixels={max_pixels:,} (not decoded)"
        )
    return image


def orientation(image: Image.Image) -> int:
    """The image's EXIF orientation (1: upright as stored; 1 too for unreadable EXIF)."""
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - bad EXIF: the pixels as stored
        return 1


def load_rgb(
    path: str, max_pixels: int = PILLOW_MAX_PIXELS, resize_side: int | None = None
) -> Image.Image:
    """Open an image as 8-bit RGB, whatever its mode (grayscale, 16-bit grayscale, palette,
    RGBA, LA, CMYK, ...), upright by its EXIF orientation; an image over `max_pixels` pixels
    (as stored or resized to `resize_side`) raises ImageTooLarge undecoded."""
    with open_checked(path, max_pixels, resize_side) as image:
        if orientation(image) in range(2, 9):
            image = ImageOps.exif_transpose(image)
        if image.mode.startswith("I"):  # 16-bit grayscale: scale to 8 bits, do not clip
            scaled = np.asarray(image, dtype=np.uint32) // 257
            return Image.fromarray(scaled.clip(0, 255).astype(np.uint8), "L").convert("RGB")
        if image.mode == "P" and "transparency" in image.info:
            image = image.convert("RGBA")
        return image.convert("RGB")


class SkipBadFiles(Dataset):
    """An ImageFolder whose unreadable files (not an image, truncated, corrupt) are skipped with a
    warning, the next readable image of the folder taking their place (policy ``skip``), or stop
    the run with the file's path (policy ``fail``)."""

    def __init__(self, images: ImageFolder, policy: str = "skip") -> None:
        check_choice("data.bad_files", policy, BAD_FILE_POLICIES)
        self.images, self.policy = images, policy
        self.targets = images.targets
        self.skipped: set[str] = set()

    def __len__(self) -> int:
        return len(self.images)

    @property
    def transform(self) -> Callable | None:
        """The wrapped ImageFolder's transform."""
        return self.images.transform

    def __getitem__(self, index: int) -> Any:
        for offset in range(len(self.images)):
            candidate = (index + offset) % len(self.images)
            try:
                return self.images[candidate]
            # PIL's ways to say "unreadable", ImageTooLarge (a ValueError), out of memory
            except (OSError, SyntaxError, ValueError, MemoryError) as err:
                path = self.images.samples[candidate][0]
                if self.policy == "fail":
                    raise DataError(
                        f"unreadable image {shown(path)}: {_why(err)} (data.bad_files=skip "
                        "skips such files)"
                    ) from err
                if path not in self.skipped:
                    self.skipped.add(path)
                    log.warning(
                        "Skipped unreadable image %s (%s); %d skipped so far in this "
                        "loader process",
                        shown(path),
                        _why(err),
                        len(self.skipped),
                    )
        raise DataError(f"no readable image in {shown(self.images.root)}")


def _why(err: BaseException) -> str:
    if isinstance(err, MemoryError):  # its message is often empty
        said = f": {shown(str(err))}" if str(err) else ""
        return f"MemoryError (out of memory decoding or transforming it){said}"
    return shown(str(err) or type(err).__name__)


def class_names(folder: Path) -> list[str]:
    """The class folders of `folder`, checked: it exists and every class holds an image;
    unreadable entries are skipped with a warning (alexnet/data/folder_scan.py)."""
    if not is_folder(folder):
        raise DataError(f"data root {shown(folder)} does not exist or is not a folder")
    classes = class_folders(folder)
    empty = [name for name in classes if not image_files(folder / name)]
    if empty:
        others = f" (nor do {len(empty) - 1} other class folders)" if len(empty) > 1 else ""
        raise DataError(f"class folder {shown(folder / empty[0])} has no images{others}")
    return classes


class CheckedImageFolder(ImageFolder):
    """torchvision's ImageFolder listing its files as class_names does: what cannot be read is
    skipped with a warning and a symbolic link loop is entered once (its documented hooks)."""

    def find_classes(self, directory: str | Path) -> tuple[list[str], dict[str, int]]:
        classes = class_folders(Path(directory))
        return classes, {name: index for index, name in enumerate(classes)}

    @staticmethod
    def make_dataset(
        directory: str | Path,
        class_to_idx: dict[str, int] | None = None,
        extensions: Any = None,
        is_valid_file: Any = None,
        allow_empty: bool = False,
    ) -> list[tuple[str, int]]:
        assert class_to_idx is not None
        return [
            (str(path), index)
            for name, index in class_to_idx.items()
            for path in image_files(Path(directory) / name)
        ]


def layout(root: Path) -> dict[str, Path]:
    """The split folders of `root`: train and val (and test if present), or just `root` itself."""
    if not is_folder(root):
        raise DataError(f"data root {shown(root)} does not exist or is not a folder")
    if is_folder(root / "train") and is_folder(root / "val"):
        splits = {"train": root / "train", "val": root / "val"}
        if is_folder(root / "test"):
            splits["test"] = root / "test"
        return splits
    return {"all": root}


def image_folder_splits(
    root: str | Path,
    train_transform: Callable | None,
    eval_transform: Callable | None,
    val_fraction: float = 0.1,
    seed: int = 0,
    bad_files: str = "skip",
    loader: Callable = load_rgb,
) -> tuple[Dataset, Dataset, Dataset, list[str]]:
    """(train, val, test, classes) from `root`; a root without train/val is split per class.

    Test is root/test when present, else the validation set. Unreadable files follow
    `bad_files` (see SkipBadFiles).
    """

    def folder(path: Path, transform: Callable | None) -> SkipBadFiles:
        return SkipBadFiles(
            CheckedImageFolder(str(path), transform=transform, loader=loader), bad_files
        )

    splits = layout(Path(root))
    if "all" in splits:
        classes = class_names(splits["all"])
        full = folder(splits["all"], train_transform)
        train_idx, val_idx = stratified_split(full.targets, val_fraction, seed)
        evaluation = copy.copy(full)
        evaluation.images = copy.copy(full.images)
        evaluation.images.transform = eval_transform
        val = Subset(evaluation, val_idx)
        return Subset(full, train_idx), val, val, classes
    classes = class_names(splits["train"])
    for name in ("val", "test"):
        found = class_names(splits[name]) if name in splits else classes
        if found != classes:
            raise DataError(
                f"class folders of {shown(splits[name])} differ from those of "
                f"{shown(splits['train'])}: {class_difference(classes, found, name)}"
            )
    train = folder(splits["train"], train_transform)
    val = folder(splits["val"], eval_transform)
    test = folder(splits["test"], eval_transform) if "test" in splits else val
    return train, val, test, classes


def stratified_split(
    targets: list[int], val_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices (train, val): `val_fraction` of each class (at least one image) goes to val."""
    check_number("data.val_fraction", val_fraction, 0, 1, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    labels = np.asarray(targets)
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = max(1, round(len(members) * val_fraction)) if len(members) > 1 else 0
        val.extend(members[:count].tolist())
        train.extend(members[count:].tolist())
    return sorted(train), sorted(val)
