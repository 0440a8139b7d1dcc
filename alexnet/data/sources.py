"""One small object per data source: the synthetic tasks, a named dataset, an ImageFolder root.

Each says what the DataModule asks of a source: its default statistics and native size, its
number of classes (checked against a configured one), how to get it onto the disk, and its
three splits through the given transforms. The DataModule holds one and asks, instead of
branching on the source's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from alexnet.data.encoded import load_encoded
from alexnet.data.imagefolder import (
    class_names,
    image_folder_splits,
    layout,
    load_rgb,
    resize_side,
)
from alexnet.data.named import ensure_downloaded, named_dataset, named_splits, native_size
from alexnet.data.synthetic import MAX_CLASSES, VERSIONS, SyntheticImageNet
from alexnet.data.transforms import IMAGENET_STATS, Stats
from alexnet.errors import InvalidValue, check_int

Splits = tuple[dict[str, Dataset], list[str]]  # the datasets by split, and the class names


class DataSource:
    """What every source answers (ImageNet's statistics and no native size by default)."""

    name: str
    decodes_on_device = False  # whether data.decode=device applies
    version: str | None = None  # a frozen task's version (the synthetic data's)

    def default_stats(self) -> Stats:
        return IMAGENET_STATS

    def native_size(self) -> int | None:
        return None

    def num_classes(self, given: int | None) -> int:
        raise NotImplementedError

    def prepare(self) -> None:
        """Put the data on the disk (a download), if it needs to be."""

    def cache_dir(self) -> str | None:
        """Where derived data (the colour basis) may be cached next to the images."""
        return None


# The hard drawing's calibrated tasks, by (train, val) images per class: hard-v1 calibrated on
# the old reference recipe, hard-v2 by experiments/declarations/hard_calibration_v2.yaml.
HARD_TASKS = {(100, 250): "hard-v1", (200, 250): "hard-v2"}


@dataclass
class SyntheticSource(DataSource):
    """The built-in synthetic task of `difficulty` (no download)."""

    difficulty: str
    per_class: dict[str, int]
    seed: int
    name: str = "synthetic"

    @property
    def version(self) -> str | None:  # type: ignore[override]
        return VERSIONS[self.difficulty]

    @property
    def task(self) -> str | None:
        """The calibrated task these splits make (HARD_TASKS: the hard drawing at its calibrated
        sizes), None for any other sizes."""
        sizes = (self.per_class["train"], self.per_class["val"])
        return HARD_TASKS.get(sizes) if self.difficulty == "hard" else None

    def num_classes(self, given: int | None) -> int:
        count = 10 if given is None else given
        check_int("data.num_classes", count, minimum=1)
        limit = MAX_CLASSES[self.difficulty]
        if count > limit:
            raise InvalidValue(
                "data.num_classes",
                count,
                f"the {self.difficulty} synthetic data has at most {limit} classes",
            )
        return count

    def split(
        self,
        num_classes: int,
        split: str,
        size: int,
        transform: Any,
        deferred: bool,
        crop_size: int | None = None,
    ) -> SyntheticImageNet:
        """One split drawn at `size` pixels (on the device later when `deferred`). Drawn larger
        than the `crop_size` the model sees, the scene widens around objects of the same size
        in pixels: a crop shows them at the scale of a split drawn at the crop size."""
        return SyntheticImageNet(
            num_classes,
            self.per_class[split],
            size,
            self.seed,
            split,
            transform,
            deferred=deferred,
            difficulty=self.difficulty,
            field=size / crop_size if crop_size else 1.0,
        )


@dataclass
class NamedSource(DataSource):
    """A dataset torchvision downloads (CIFAR, MNIST, STL-10, Imagenette...), read by its own
    class under `root`."""

    name: str
    root: str
    variant: str | None
    download: bool
    val_fraction: float
    seed: int

    def default_stats(self) -> Stats:
        spec = named_dataset(self.name)
        return spec.mean, spec.std

    def native_size(self) -> int | None:
        return native_size(self.name, self.variant)

    def num_classes(self, given: int | None) -> int:
        spec = named_dataset(self.name)
        if given is not None and given != spec.num_classes:
            raise InvalidValue(
                "data.num_classes",
                given,
                f"{spec.title} (data={self.name}) has {spec.num_classes} classes; set it to "
                f"{spec.num_classes} or null",
            )
        return spec.num_classes

    def prepare(self) -> None:
        ensure_downloaded(self.name, self.root, self.variant, self.download)

    def cache_dir(self) -> str | None:
        return self.root

    def splits(self, train_tf: Any, eval_tf: Any) -> Splits:
        self.prepare()  # a no-op when present; outside a Trainer nothing else calls it
        train, val, test, classes = named_splits(
            self.name, self.root, train_tf, eval_tf, self.val_fraction, self.seed, self.variant
        )
        return {"train": train, "val": val, "test": test}, classes


@dataclass
class FolderSource(DataSource):
    """An ImageFolder root: train/ and val/ (and test/), or class folders to split."""

    root: str
    val_fraction: float
    seed: int
    bad_files: str
    max_pixels: int
    on_device: bool  # data.decode=device: the workers only read the files
    name: str = "imagefolder"
    decodes_on_device = True

    def num_classes(self, given: int | None) -> int:
        splits = layout(Path(self.root))
        found = len(class_names(splits.get("train", splits.get("all"))))
        if given is not None and given != found:
            raise InvalidValue(
                "data.num_classes",
                given,
                f"the data at {self.root} has {found} classes; set it to {found} or null",
            )
        return found

    def cache_dir(self) -> str | None:
        return self.root

    def splits(self, train_tf: Any, eval_tf: Any) -> Splits:
        # The bad-file guard bounds an image's pixels once resized too (data.max_image_pixels).
        load = partial(
            load_encoded if self.on_device else load_rgb,
            max_pixels=self.max_pixels,
            resize_side=resize_side(train_tf, eval_tf),
        )
        train, val, test, classes = image_folder_splits(
            self.root,
            None if self.on_device else train_tf,
            None if self.on_device else eval_tf,
            self.val_fraction,
            self.seed,
            self.bad_files,
            load,
        )
        return {"train": train, "val": val, "test": test}, classes
