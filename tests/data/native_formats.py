"""Tiny named datasets written in each one's native on-disk layout, for torchvision's own classes
to read: MNIST's idx files, CIFAR's pickled batches, STL-10's binaries, Imagenette's folders.

CIFAR and STL-10 check each file's MD5 against the real release's; `write_*` returns the
checksum lists of the files it wrote, which a test installs on the class (as the real files
would match the real lists).
"""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image
from torchvision import datasets


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _images(count: int, size: int, channels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, size, size, channels) uint8, labels 0..9): each class its own brightness."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    base = (labels * 25).reshape(-1, 1, 1, 1)
    noise = rng.integers(0, 20, (count, size, size, channels))
    return (base + noise).clip(0, 255).astype(np.uint8), labels.astype(np.uint8)


def write_mnist(root: Path, folder: str = "MNIST", train: int = 40, test: int = 20) -> Path:
    """root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (big-endian idx files)."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", train, 0), ("t10k", test, 1)):
        images, labels = _images(count, 28, 1, seed)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            struct.pack(">iiii", 2051, count, 28, 28) + images.tobytes()
        )
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            struct.pack(">ii", 2049, count) + labels.tobytes()
        )
    return root


def write_cifar(root: Path, classes: int = 10, per_batch: int = 10, test: int = 20) -> dict:
    """CIFAR-10's cifar-10-batches-py/ (5 data batches, test_batch, batches.meta) or CIFAR-100's
    cifar-100-python/ (train, test, meta); returns the class attributes listing their MD5s."""
    cls = datasets.CIFAR10 if classes == 10 else datasets.CIFAR100
    folder = root / cls.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    label_key = "labels" if classes == 10 else "fine_labels"

    def batch(name: str, count: int, seed: int) -> list[str]:
        images, labels = _images(count, 32, 3, seed)
        labels = (np.arange(count) % classes).tolist()
        data = images.transpose(0, 3, 1, 2).reshape(count, -1)  # CIFAR rows: R, then G, then B
        with open(folder / name, "wb") as file:
            pickle.dump({"data": data, label_key: labels}, file)
        return [name, _md5(folder / name)]

    if classes == 10:
        train_list = [batch(f"data_batch_{i}", per_batch, i) for i in range(1, 6)]
        test_list = [batch("test_batch", test, 9)]
    else:
        train_list = [batch("train", per_batch * 5 * 10, 1)]
        test_list = [batch("test", test * 5, 9)]
    names = [f"class_{i}" for i in range(classes)]
    with open(folder / cls.meta["filename"], "wb") as file:
        pickle.dump({cls.meta["key"]: names}, file)
    meta = {**cls.meta, "md5": _md5(folder / cls.meta["filename"])}
    return {"train_list": train_list, "test_list": test_list, "meta": meta}


def write_stl10(root: Path, train: int = 30, test: int = 20) -> dict:
    """stl10_binary/ with {train,test}_{X,y}.bin, unlabeled_X.bin and class_names.txt (images
    stored column-major, labels 1..10); returns the class attributes listing their MD5s."""
    folder = root / datasets.STL10.base_folder
    folder.mkdir(parents=True, exist_ok=True)

    def write(prefix: str, count: int, seed: int) -> list[list[str]]:
        images, labels = _images(count, 96, 3, seed)
        (folder / f"{prefix}_X.bin").write_bytes(images.transpose(0, 3, 2, 1).tobytes())
        (folder / f"{prefix}_y.bin").write_bytes((labels + 1).tobytes())
        return [
            [f"{prefix}_X.bin", _md5(folder / f"{prefix}_X.bin")],
            [f"{prefix}_y.bin", _md5(folder / f"{prefix}_y.bin")],
        ]

    train_list = write("train", train, 0)
    test_list = write("test", test, 1)
    unlabeled, _ = _images(4, 96, 3, 2)
    (folder / "unlabeled_X.bin").write_bytes(unlabeled.tobytes())
    train_list.append(["unlabeled_X.bin", _md5(folder / "unlabeled_X.bin")])
    (folder / "class_names.txt").write_text("\n".join(f"class_{i}" for i in range(10)) + "\n")
    return {"train_list": train_list, "test_list": test_list}


def write_imagenette(root: Path, size: str = "320px", train: int = 3, val: int = 2) -> Path:
    """imagenette2[-320|-160]/{train,val}/<wnid>/*.JPEG, the 10 WordNet ids torchvision knows."""
    folder = root / ("imagenette2" if size == "full" else f"imagenette2-{size[:-2]}")
    for split, count in (("train", train), ("val", val)):
        for label, wnid in enumerate(sorted(datasets.Imagenette._WNID_TO_CLASS)):
            images, _ = _images(count, 40, 3, label)
            for i, image in enumerate(images):
                path = folder / split / wnid / f"{wnid}_{i}.JPEG"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).resize((48, 40)).save(path)
    return root
