"""Real images in ImageFolder layout: root/train/<class>/*, root/val/<class>/* (or one folder,
split), and how an unreadable or oversized file is refused."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Subset
from torchvision.datasets import ImageFolder
from torchvision.io import ImageReadMode, decode_jpeg, read_file
from torchvision.transforms.v2.functional import pil_to_tensor

from alexnet.data.folder_scan import class_folders, image_files
from alexnet.errors import DataError, check_choice, check_number

log = logging.getLogger(__name__)
BAD_FILE_POLICIES = ("skip", "fail")

# Pillow's own limit (it warns above it and refuses twice it): the default of
# data.max_image_pixels. An image over the limit is never decoded.
PILLOW_MAX_PIXELS: int = Image.MAX_IMAGE_PIXELS or 89_478_485


class ImageTooLarge(ValueError):
    """An image with more pixels than data.max_image_pixels: a possible decompression bomb."""


def open_checked(path: str, max_pixels: int = PILLOW_MAX_PIXELS) -> Image.Image:
    """Open `path` lazily (its header only) and refuse it, undecoded, if it has more than
    `max_pixels` pixels (Pillow's own check is set aside for the header read: this one, with
    the configured limit, takes its place)."""
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
    return image


def load_rgb(path: str, max_pixels: int = PILLOW_MAX_PIXELS) -> Image.Image:
    """Open an image as 8-bit RGB, whatever its mode (grayscale, 16-bit grayscale, palette,
    RGBA, LA, CMYK, ...); an image over `max_pixels` pixels raises ImageTooLarge undecoded."""
    with open_checked(path, max_pixels) as image:
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
            # PIL's ways to say "unreadable", and ImageTooLarge (a ValueError)
            except (OSError, SyntaxError, ValueError) as err:
                path = self.images.samples[candidate][0]
                if self.policy == "fail":
                    raise DataError(
                        f"unreadable image {path}: {err} (data.bad_files=skip skips such files)"
                    ) from err
                if path not in self.skipped:
                    self.skipped.add(path)
                    log.warning(
                        "Skipped unreadable image %s (%s); %d skipped so far in this "
                        "loader process",
                        path,
                        err,
                        len(self.skipped),
                    )
        raise DataError(f"no readable image in {self.images.root}")


def load_encoded(path: str, max_pixels: int = PILLOW_MAX_PIXELS) -> torch.Tensor:
    """A JPEG's bytes (1-D uint8) to decode later on the device; other images decoded (3-D).
    Either way an image over `max_pixels` pixels raises ImageTooLarge, undecoded."""
    with open_checked(path, max_pixels) as image:  # reads the header only
        device_decodable = image.format == "JPEG" and image.mode in ("RGB", "L")
    if device_decodable:
        return read_file(path)
    return pil_to_tensor(load_rgb(path, max_pixels))


@dataclass
class EncodedBatch:
    """A batch of encoded images (their sizes differ) packed into one buffer: from a loader
    worker it crosses as three tensors, not one shared-memory file descriptor per image (which
    ran out of descriptors and hung the loader)."""

    data: torch.Tensor  # uint8: every item's bytes, end to end
    offsets: torch.Tensor  # int64 (n + 1,): item i is data[offsets[i]:offsets[i + 1]]
    shapes: torch.Tensor  # int64 (n, 3): (0, 0, 0) for JPEG bytes, else the image's (C, H, W)

    def items(self) -> list[torch.Tensor]:
        """The items: 1-D JPEG bytes, or 3-D images a worker decoded already."""
        bounds, shapes = self.offsets.tolist(), self.shapes.tolist()
        return [
            self.data[bounds[i] : bounds[i + 1]]
            if shape[0] == 0
            else self.data[bounds[i] : bounds[i + 1]].view(*shape)
            for i, shape in enumerate(shapes)
        ]

    def __len__(self) -> int:
        return len(self.shapes)


def pack_encoded(images: Sequence[torch.Tensor]) -> EncodedBatch:
    """JPEG bytes (1-D) and decoded images (3-D uint8) packed into one EncodedBatch."""
    sizes = [image.numel() for image in images]
    offsets = torch.zeros(len(images) + 1, dtype=torch.int64)
    offsets[1:] = torch.tensor(sizes, dtype=torch.int64).cumsum(0)
    shapes = torch.tensor(
        [(0, 0, 0) if image.dim() == 1 else tuple(image.shape) for image in images],
        dtype=torch.int64,
    ).reshape(-1, 3)
    data = (
        torch.cat([image.reshape(-1) for image in images])
        if images
        else torch.empty(0, dtype=torch.uint8)
    )
    return EncodedBatch(data, offsets, shapes)


def collate_encoded(items: list[tuple[torch.Tensor, int]]) -> tuple[EncodedBatch, torch.Tensor]:
    """A batch of encoded images packed into one buffer; the labels are stacked."""
    return pack_encoded([item[0] for item in items]), torch.tensor([item[1] for item in items])


def decode_batch(
    encoded: EncodedBatch | list[torch.Tensor], device: torch.device, policy: str = "skip"
) -> list[torch.Tensor]:
    """RGB uint8 images (3, H, W) on `device`: JPEG bytes decoded there, the rest moved there.

    An undecodable JPEG (e.g. truncated) follows `policy`: ``skip`` takes a good image of the
    batch in its place (with a warning), ``fail`` raises DataError.
    """
    if isinstance(encoded, EncodedBatch):
        encoded = encoded.items()
    jpegs = [i for i, item in enumerate(encoded) if item.dim() == 1]
    decoded: dict[int, torch.Tensor] = {}
    if jpegs and device.type == "cuda":
        drain_stream(device)
    try:
        batch = decode_jpeg([encoded[i] for i in jpegs], mode=ImageReadMode.RGB, device=device)
        decoded.update(zip(jpegs, batch))
    except RuntimeError:  # one bad file fails the batch: decode one by one to find it
        for i in jpegs:
            try:
                decoded[i] = decode_jpeg(encoded[i], mode=ImageReadMode.RGB, device=device)
            except RuntimeError as err:
                if policy == "fail":
                    raise DataError(f"undecodable JPEG in the batch (item {i}): {err}") from err
                log.warning("Skipped an undecodable JPEG (batch item %d): %s", i, err)
    for i, item in enumerate(encoded):
        if item.dim() == 3:  # decoded by the worker already
            decoded[i] = item.to(device, non_blocking=True)
    if not decoded:
        raise DataError("no decodable image in the batch")
    good = list(decoded.values())
    return [decoded.get(i, good[0]) for i in range(len(encoded))]


def drain_stream(device: torch.device) -> None:
    """Wait for the work queued on `device`'s current stream: nvJPEG may decode into memory the
    caching allocator freed while queued kernels still read it (pytorch/vision#9606,
    meta-pytorch/torchcodec#1634: draining the caller's stream first was the fix that held on
    every path). One host barrier per decoded batch, the price of correct pixels."""
    torch.cuda.current_stream(device).synchronize()


def class_names(folder: Path) -> list[str]:
    """The class folders of `folder`, checked: it exists and every class holds an image;
    unreadable entries are skipped with a warning (alexnet/data/folder_scan.py)."""
    if not folder.is_dir():
        raise DataError(f"data root {folder} does not exist or is not a folder")
    classes = class_folders(folder)
    empty = [name for name in classes if not image_files(folder / name)]
    if empty:
        others = f" (nor do {len(empty) - 1} other class folders)" if len(empty) > 1 else ""
        raise DataError(f"class folder {folder / empty[0]} has no images{others}")
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
    if not root.is_dir():
        raise DataError(f"data root {root} does not exist or is not a folder")
    if (root / "train").is_dir() and (root / "val").is_dir():
        splits = {"train": root / "train", "val": root / "val"}
        if (root / "test").is_dir():
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
        if name in splits and class_names(splits[name]) != classes:
            raise DataError(
                f"class folders of {splits[name]} differ from those of {splits['train']}"
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
