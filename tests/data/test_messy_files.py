"""What real folders hold, each file kind written for real, and what each gets: read (as 8-bit
RGB) or skipped with a warning naming it; a decompression bomb is never decoded."""

from __future__ import annotations

import json
import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet.config.compose import compose_config
from alexnet.data import AlexNetDataModule, DataError
from alexnet.data.encoded import load_encoded
from alexnet.data.imagefolder import ImageTooLarge, load_rgb
from alexnet.run.api import train
from tests.conftest import write_image

LIMIT = 64 * 64  # a small data.max_image_pixels, so that "over" and "under" stay small files


def png_header(path: Path, width: int, height: int) -> None:
    """A PNG that claims width x height pixels and holds none: a crafted decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def truncated_jpeg(path: Path) -> None:
    write_image(path, "RGB", (64, 48), 1)
    path.write_bytes(path.read_bytes()[:300])


def gray16(path: Path) -> None:
    values = np.array([[65535, 32896], [0, 257]], dtype=np.uint16)
    Image.fromarray(values).save(path, format="PNG")


def palette_with_transparency(path: Path) -> None:
    image = Image.new("P", (20, 20), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.save(path, format="PNG", transparency=0)


# kind -> (file name, writer, outcome with data.max_image_pixels=LIMIT)
KINDS = {
    "truncated JPEG": ("truncated.jpg", truncated_jpeg, "skipped"),
    "zero-byte file": ("empty.jpg", lambda p: p.write_bytes(b""), "skipped"),
    "text named .jpg": ("notes.jpg", lambda p: p.write_text("not an image\n"), "skipped"),
    "PNG named .jpg": (
        "png.jpg",
        lambda p: Image.new("RGB", (30, 20), (9, 99, 199)).save(p, format="PNG"),
        "read",
    ),
    "16-bit grayscale PNG": ("gray16.png", gray16, "read"),
    "LA": ("la.png", lambda p: Image.new("LA", (20, 30), (128, 50)).save(p), "read"),
    "CMYK": ("cmyk.jpg", lambda p: write_image(p, "CMYK", (40, 30), 2), "read"),
    "1x1 image": ("dot.png", lambda p: Image.new("RGB", (1, 1), (1, 2, 3)).save(p), "read"),
    "palette with transparency": ("palette.png", palette_with_transparency, "read"),
    "over the pixel limit": ("over.png", lambda p: Image.new("RGB", (65, 64)).save(p), "skipped"),
    "just under the pixel limit": (
        "under.png",
        lambda p: Image.new("RGB", (64, 64)).save(p),
        "read",
    ),
    "crafted bomb (15000x15000 header)": (
        "bomb.png",
        lambda p: png_header(p, 15000, 15000),
        "skipped",
    ),
}


def folder_with(kinds: dict, root: Path) -> Path:
    """One class folder holding every kind, and a second class with good images."""
    for name, writer, _ in kinds.values():
        (root / "a").mkdir(parents=True, exist_ok=True)
        writer(root / "a" / name)
    for i in range(3):
        write_image(root / "b" / f"good{i}.jpg", "RGB", (40, 40), 10 + i)
    return root


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_file_kind_is_read_or_skipped_with_a_warning(kind, tmp_path, caplog):
    name, _, outcome = KINDS[kind]
    root = folder_with({kind: KINDS[kind]}, tmp_path / "images")
    module = AlexNetDataModule(
        source="imagefolder",
        root=str(root),
        image_size=32,
        val_fraction=0.3,
        num_workers=0,
        max_image_pixels=LIMIT,
    )
    module.setup()
    dataset = module.datasets["train"].dataset  # SkipBadFiles under the train Subset
    index = [i for i, (path, _) in enumerate(dataset.images.samples) if path.endswith(name)][0]
    with caplog.at_level(logging.WARNING):
        image, _ = dataset[index]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    path = str(root / "a" / name)
    if outcome == "skipped":
        assert dataset.skipped == {path}
        assert f"Skipped unreadable image {path}" in caplog.text
    else:
        assert not dataset.skipped and "Skipped" not in caplog.text


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path):
    gray16(tmp_path / "g.png")
    pixels = np.asarray(load_rgb(str(tmp_path / "g.png")))
    assert pixels.shape == (2, 2, 3)
    assert pixels[:, :, 0].tolist() == [[255, 128], [0, 1]]


def test_a_bomb_is_refused_before_decoding_on_both_paths(tmp_path):
    png_header(tmp_path / "bomb.png", 15000, 15000)  # Pillow's default limit: 89,478,485
    for loader in (load_rgb, load_encoded):
        with pytest.raises(ImageTooLarge, match=r"over data.max_image_pixels=89,478,485"):
            loader(str(tmp_path / "bomb.png"))
    Image.new("RGB", (65, 64)).save(tmp_path / "over.jpg")  # a JPEG to decode on the device
    with pytest.raises(
        ImageTooLarge, match="65x64 = 4,160 pixels, over data.max_image_pixels=4,096"
    ):
        load_encoded(str(tmp_path / "over.jpg"), max_pixels=LIMIT)
    # Raised knowingly, the limit lets a big image through.
    assert load_encoded(str(tmp_path / "over.jpg"), max_pixels=65 * 64).dim() == 1


def test_under_fail_a_bomb_stops_with_one_line_naming_it(tmp_path):
    root = folder_with({"bomb": KINDS["crafted bomb (15000x15000 header)"]}, tmp_path / "i")
    module = AlexNetDataModule(
        source="imagefolder",
        root=str(root),
        image_size=32,
        val_fraction=0.3,
        num_workers=0,
        bad_files="fail",
    )
    module.setup()
    dataset = module.datasets["train"].dataset
    index = [i for i, (p, _) in enumerate(dataset.images.samples) if p.endswith("bomb.png")][0]
    with pytest.raises(DataError) as caught:
        dataset[index]
    assert str(root / "a" / "bomb.png") in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("decode", ["loader", "device"])
def test_a_run_with_a_bomb_in_every_split_completes(decode, tmp_path):
    root = tmp_path / "images"
    for split in ("train", "val", "test"):
        for c in range(2):
            for i in range(3):
                write_image(root / split / f"c{c}" / f"{i}.jpg", "RGB", (40, 40), c * 10 + i)
        png_header(root / split / "c0" / "bomb.png", 15000, 15000)
        truncated_jpeg(root / split / "c1" / "cut.jpg")
    cfg = compose_config(
        [
            "model=mini",
            "data=imagefolder",
            f"data.root={root}",
            "data.image_size=64",
            "data.batch_size=4",
            "data.num_workers=0",
            f"data.decode={decode}",
            "trainer=cpu",
            "trainer.max_epochs=1",
            "logger=none",
            "callbacks=none",
        ],
        output_dir=tmp_path / "run",
    )
    record = train(cfg)
    assert record["status"] == "completed" and "test/acc1" in record["metrics"]
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["status"] == "completed"
