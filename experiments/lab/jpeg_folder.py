"""ImageNet-sized JPEGs for speed measurements and checks: a folder in ImageFolder layout, and
photo-like files' bytes."""

from __future__ import annotations

import io
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


def photo_like_jpegs(count: int, seed: int = 0) -> list[bytes]:
    """`count` 500x375 JPEGs of 1/f colour noise (a photograph's amplitude spectrum)."""
    rng = np.random.default_rng(seed)
    fy, fx = np.meshgrid(np.fft.fftfreq(375), np.fft.rfftfreq(500), indexing="ij")
    falloff = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / 500)
    encoded = []
    for _ in range(count):
        phase = rng.uniform(0, 2 * np.pi, (3, *falloff.shape))
        planes = np.fft.irfft2(falloff * np.exp(1j * phase), s=(375, 500))
        planes = (planes - planes.mean()) / (planes.std() * 4) + 0.5
        pixels = (np.clip(planes, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
        encoded.append(buffer.getvalue())
    return encoded
