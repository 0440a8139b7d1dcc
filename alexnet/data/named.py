"""Named datasets (CIFAR, MNIST, STL-10, Imagenette), read through torchvision's own classes.

Each downloads on first use into its root and is read from there afterwards. A download goes
into a staging folder inside the root, moved into place only when complete: a failed or
interrupted download leaves nothing half-written behind.
"""

from __future__ import annotations

import logging
import pickle
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock
from torch.utils.data import Dataset
from torchvision import datasets

from alexnet.data.archives import safe_extraction
from alexnet.data.imagefolder import stratified_split
from alexnet.errors import DataError, check_choice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NamedDataset:
    """A torchvision dataset class, what it holds and how to ask it for a split."""

    title: str
    build: Callable[..., Dataset]  # build(root, split, download, variant) -> Dataset
    num_classes: int
    native_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    holds: str  # what the root holds once downloaded, for the offline message
    url: str
    variants: tuple[str, ...] = ()


def _train_flag(cls: type) -> Callable[..., Dataset]:
    """CIFAR and MNIST style: ``train=True`` for the training split, False for the test split."""

    def build(root: str, split: str, download: bool, variant: str | None) -> Dataset:
        return cls(root, train=split == "train", download=download)

    return build


def _split_name(cls: type, names: dict[str, str]) -> Callable[..., Dataset]:
    """STL-10 style: a ``split`` argument."""

    def build(root: str, split: str, download: bool, variant: str | None) -> Dataset:
        return cls(root, split=names[split], download=download)

    return build


def _imagenette(root: str, split: str, download: bool, variant: str | None) -> Dataset:
    return datasets.Imagenette(
        root,
        split={"train": "train", "test": "val"}[split],
        size=variant or "320px",
        download=download,
    )


NAMED: dict[str, NamedDataset] = {
    "cifar10": NamedDataset(
        "CIFAR-10",
        _train_flag(datasets.CIFAR10),
        10,
        32,
        (0.4914, 0.4822, 0.4465),
        (0.2470, 0.2435, 0.2616),
        "cifar-10-batches-py/ (data_batch_1..5, test_batch, batches.meta)",
        datasets.CIFAR10.url,
    ),
    "cifar100": NamedDataset(
        "CIFAR-100",
        _train_flag(datasets.CIFAR100),
        100,
        32,
        (0.5071, 0.4865, 0.4409),
        (0.2673, 0.2564, 0.2762),
        "cifar-100-python/ (train, test, meta)",
        datasets.CIFAR100.url,
    ),
    "mnist": NamedDataset(
        "MNIST",
        _train_flag(datasets.MNIST),
        10,
        28,
        (0.1307,) * 3,
        (0.3081,) * 3,
        "MNIST/raw/ (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte)",
        datasets.MNIST.mirrors[0],
    ),
    "fashion_mnist": NamedDataset(
        "Fashion-MNIST",
        _train_flag(datasets.FashionMNIST),
        10,
        28,
        (0.2860,) * 3,
        (0.3530,) * 3,
        "FashionMNIST/raw/ (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)",
        datasets.FashionMNIST.mirrors[0],
    ),
    "stl10": NamedDataset(
        "STL-10",
        _split_name(datasets.STL10, {"train": "train", "test": "test"}),
        10,
        96,
        (0.4467, 0.4398, 0.4066),
        (0.2603, 0.2566, 0.2713),
        "stl10_binary/ (train_X.bin, train_y.bin, test_X.bin, test_y.bin, unlabeled_X.bin)",
        datasets.STL10.url,
    ),
    "imagenette": NamedDataset(
        "Imagenette",
        _imagenette,
        10,
        320,
        (0.485, 0.456, 0.406),
        (0.229, 0.224, 0.225),
        "imagenette2-320/ (train/ and val/, one folder per WordNet id; imagenette2/ for "
        "variant=full, imagenette2-160/ for 160px)",
        datasets.Imagenette._ARCHIVES["320px"][0],
        ("full", "320px", "160px"),
    ),
}


def named_dataset(name: str) -> NamedDataset:
    """The entry of `name`; an unknown name lists the valid ones."""
    check_choice("data.source", name, NAMED)
    return NAMED[name]


# What torchvision's classes raise for missing, truncated or corrupt files.
UNREADABLE = (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError)
_OPENED: dict[tuple[str, str, str, str | None], Dataset] = {}  # opened once per process


def native_size(name: str, variant: str | None = None) -> int:
    """The shorter side of the dataset's images (Imagenette: its variant's)."""
    if name == "imagenette" and variant == "160px":
        return 160
    return named_dataset(name).native_size


def open_split(name: str, root: str | Path, split: str, variant: str | None = None) -> Dataset:
    """The `split` (``train`` or ``test``) of dataset `name` from `root`, already downloaded
    (opened once per process: some classes checksum every file when opened)."""
    spec = named_dataset(name)
    key = (name, str(Path(root).resolve()), split, variant)
    if key not in _OPENED:
        try:
            _OPENED[key] = spec.build(str(root), split, False, variant)
        except UNREADABLE as err:
            raise DataError(
                _missing(name, root, f"{type(err).__name__}: {_first_line(err)}")
            ) from None
    return _OPENED[key]


def ensure_downloaded(
    name: str, root: str | Path, variant: str | None = None, download: bool = True
) -> None:
    """Make sure `root` holds dataset `name` (both splits), downloading it if allowed.

    The download runs in a staging folder inside `root`; only a complete, verified download is
    moved into place. Any failure (offline, interrupted, corrupt) removes the staging folder
    and raises one line naming the dataset, the folder and what to put there.
    """
    spec = named_dataset(name)
    if variant is not None and spec.variants:
        check_choice("data.variant", variant, spec.variants)
    root = Path(root)
    if _present(name, root, variant):
        return
    if not download:
        raise DataError(_missing(name, root, "data.download=false"))
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    # One download at a time per root (parallel sweep jobs): the others wait, then find it.
    with FileLock(str(root.parent / f".{root.name}.download.lock")):
        if not _present(name, root, variant):
            _download(name, root, variant, created)
    if not _present(name, root, variant):
        raise DataError(_missing(name, root, "the downloaded files could not be read"))


def _download(name: str, root: Path, variant: str | None, created: bool) -> None:
    """Download into a staging folder inside `root`, then move the result into place."""
    spec = named_dataset(name)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    log.info("Downloading %s into %s (first use)", spec.title, root)
    try:
        with safe_extraction():  # no archive member lands outside the staging folder
            for split in ("train", "test"):
                spec.build(str(staging), split, True, variant)
        for entry in staging.iterdir():
            if entry.suffix in (".gz", ".tgz", ".tar") or entry.name.endswith(".tar.gz"):
                continue  # the archive, once extracted
            target = root / entry.name
            if target.exists():  # an incomplete or corrupt copy torchvision refused
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            entry.rename(target)
    except Exception as err:  # noqa: BLE001 - any download failure becomes one line
        raise DataError(
            _missing(name, root, f"download failed ({type(err).__name__}: {_first_line(err)})")
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(root.iterdir()):
            root.rmdir()  # a failed first download leaves no trace


def _present(name: str, root: Path, variant: str | None) -> bool:
    try:
        for split in ("train", "test"):
            open_split(name, root, split, variant)
    except DataError:
        return False
    return True


def _missing(name: str, root: str | Path, why: str) -> str:
    spec = NAMED[name]
    return (
        f"data={name}: {spec.title} is not in {Path(root).resolve()} ({why}); run once with "
        f"internet access to download it there, or put {spec.holds} there (from {spec.url})"
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else ""


def labels_of(dataset: Any) -> list[int]:
    """The class index of every image of a torchvision dataset, without decoding any image."""
    for attribute in ("targets", "labels"):
        values = getattr(dataset, attribute, None)
        if values is not None:
            return [int(v) for v in values]
    return [int(label) for _, label in dataset._samples]  # Imagenette


class TransformedSplit(Dataset):
    """Images `indices` of a torchvision dataset (which returns PIL images), through `transform`."""

    def __init__(self, base: Dataset, indices: list[int], transform: Callable) -> None:
        self.base, self.indices, self.transform = base, indices, transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image, label = self.base[self.indices[index]]
        return self.transform(image), int(label)


def named_splits(
    name: str,
    root: str | Path,
    train_transform: Callable,
    eval_transform: Callable,
    val_fraction: float,
    seed: int,
    variant: str | None = None,
) -> tuple[Dataset, Dataset, Dataset, list[str]]:
    """(train, val, test, classes): val is `val_fraction` of each class of the official training
    split (seeded), held out from train; test is the official test (Imagenette: val) split."""
    train_set = open_split(name, root, "train", variant)
    test_set = open_split(name, root, "test", variant)
    train_idx, val_idx = stratified_split(labels_of(train_set), val_fraction, seed)
    classes = class_titles(train_set, named_dataset(name).num_classes)
    return (
        TransformedSplit(train_set, train_idx, train_transform),
        TransformedSplit(train_set, val_idx, eval_transform),
        TransformedSplit(test_set, list(range(len(test_set))), eval_transform),
        classes,
    )


def class_titles(dataset: Any, count: int) -> list[str]:
    """Readable class names (Imagenette's first name of each WordNet id)."""
    names = getattr(dataset, "classes", None) or [str(i) for i in range(count)]
    return [name[0] if isinstance(name, tuple) else str(name) for name in names]
