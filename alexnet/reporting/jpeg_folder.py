"""A folder of ImageNet-sized JPEGs in ImageFolder layout, for speed measurements and checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_jpeg_folder(root: Path, classes: int, train_per_class: int, val_per_class: int) -> Path:
    """An ImageFolder (train/ and val/) of ImageNet-sized (500x375) random JPEGs at `root`."""
    rng = np.random.default_rng(0)
    for split, count in (("train", train_per_class), ("val", val_per_class)):
        for c in range(classes):
            folder = root / split / f"c{c}"
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (375, 500, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.jpg", quality=90)
    return root
