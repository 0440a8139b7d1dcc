"""What issue 31 found in the data scan, each case with real files: a thin strip resized to
billions of pixels, symbolic links to / and /proc/self, a hidden folder taken for a class, file
names that broke the log, EXIF orientation ignored, class names differing in Unicode form."""

from __future__ import annotations

import json
import logging
import os
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.io import read_file

from alexnet.data import AlexNetDataModule, DataError
from alexnet.data.encoded import decode_batch, load_encoded
from alexnet.data.folder_scan import image_files
from alexnet.data.imagefolder import (
    CheckedImageFolder,
    ImageTooLarge,
    SkipBadFiles,
    class_names,
    image_folder_splits,
    load_rgb,
)
from tests.conftest import write_image


def images(folder: Path, count: int, seed: int = 0) -> None:
    for i in range(count):
        write_image(folder / f"{i}.jpg", "RGB", (40, 40), seed + i)


def within(seconds: float, work: Callable[[], object]) -> dict:
    """`work()`'s result (or its error) from a forked child killed after `seconds`."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        try:
            outcome = {"result": work()}
        except BaseException as err:  # noqa: BLE001 - reported to the parent
            outcome = {"error": f"{type(err).__name__}: {err}"}
        os.write(writer, json.dumps(outcome).encode())
        os._exit(0)
    os.close(writer)
    deadline = time.monotonic() + seconds
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(reader)
            return {"error": f"still scanning after {seconds} s"}
        time.sleep(0.02)
    with os.fdopen(reader) as pipe:
        return json.loads(pipe.read() or "{}")


# 1. The decoded size after the resize is bounded too; running out of memory is a bad file.


def test_a_thin_strip_is_refused_for_its_size_after_the_resize(tmp_path):
    Image.new("RGB", (200_000, 1)).save(tmp_path / "strip.png")  # 0.2 megapixels
    for loader in (load_rgb, load_encoded):
        with pytest.raises(ImageTooLarge) as caught:
            loader(str(tmp_path / "strip.png"), resize_side=256)
        message = str(caught.value)
        assert "200000x1 = 200,000 pixels" in message
        assert "51200000x256 = 13,107,200,000 pixels" in message
        assert "data.max_image_pixels=89,478,485" in message
    assert load_rgb(str(tmp_path / "strip.png")).size == (200_000, 1)  # no resize: as before


def test_the_datamodule_bounds_the_resized_size(tmp_path, caplog):
    images(tmp_path / "a", 3)
    images(tmp_path / "b", 3, seed=5)
    Image.new("RGB", (20_000, 1)).save(tmp_path / "a" / "strip.png")
    module = AlexNetDataModule(
        source="imagefolder",
        root=str(tmp_path),
        image_size=32,  # resized to 37 on the short side: 740000x37 pixels
        num_workers=0,
        val_fraction=0.3,
        max_image_pixels=100_000,
    )
    module.setup("fit")
    dataset = module.datasets["train"].dataset
    index = [i for i, (p, _) in enumerate(dataset.images.samples) if p.endswith("strip.png")][0]
    with caplog.at_level(logging.WARNING):
        image, _ = dataset[index]
    assert image.shape == (3, 32, 32)
    assert dataset.skipped == {str(tmp_path / "a" / "strip.png")}
    assert "740000x37 = 27,380,000 pixels" in caplog.text


class RunsOutOfMemory:
    """A transform that asks for 2**62 bytes for a wide image, as resizing the strip did: a
    real MemoryError with an empty message."""

    def __call__(self, image: Image.Image) -> Image.Image:
        if image.width > 100:
            bytearray(2**62)
        return image


@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_running_out_of_memory_on_one_image_follows_bad_files(policy, tmp_path, caplog):
    images(tmp_path / "a", 2)
    Image.new("RGB", (500, 2)).save(tmp_path / "a" / "wide.png")
    folder = CheckedImageFolder(str(tmp_path), transform=RunsOutOfMemory(), loader=load_rgb)
    dataset = SkipBadFiles(folder, policy)
    index = [i for i, (p, _) in enumerate(folder.samples) if p.endswith("wide.png")][0]
    if policy == "fail":
        with pytest.raises(DataError, match=r"wide\.png: MemoryError"):
            dataset[index]
        return
    with caplog.at_level(logging.WARNING):
        assert dataset[index][0].width == 40
    assert f"Skipped unreadable image {tmp_path / 'a' / 'wide.png'} (MemoryError" in caplog.text


# 2. Symbolic links to the filesystem's root or to /proc/self; bounds; permission errors.


def test_links_to_the_filesystem_root_and_proc_are_not_followed(tmp_path, caplog):
    images(tmp_path / "a", 2)
    images(tmp_path / "b", 2, seed=3)
    proc = ("proc", "a/me") if os.path.ismount("/proc") else ()  # Linux's /proc
    for link in proc:
        (tmp_path / link).symlink_to("/proc/self")  # /proc/self/root leads back to /
    (tmp_path / "up").symlink_to("/")
    (tmp_path / "here").symlink_to(tmp_path)
    (tmp_path / "a" / "top").symlink_to("/")

    def scan() -> list:
        folder = CheckedImageFolder(str(tmp_path), loader=load_rgb)
        return [class_names(tmp_path), [Path(p).name for p, _ in folder.samples]]

    assert within(20, scan) == {"result": [["a", "b"], ["0.jpg", "1.jpg", "0.jpg", "1.jpg"]]}
    with caplog.at_level(logging.WARNING):
        class_names(tmp_path)
    said = caplog.text
    for link in ("up", "here", "a/top"):
        assert f"{tmp_path / link}: a symbolic link loop (to " in said
    for link in proc:
        assert f"{tmp_path / link}: a symbolic link into /proc" in said


def test_the_scan_is_bounded_in_depth_and_folders(tmp_path):
    deep = tmp_path / "a"
    for level in range(40):
        deep = deep / f"d{level}"
    images(deep, 1)
    with pytest.raises(DataError) as caught:
        class_names(tmp_path)
    message = str(caught.value)
    assert f"data root {tmp_path}" in message and "deeper than 32 folders" in message
    assert "\n" not in message
    for i in range(6):
        images(tmp_path / "b" / f"s{i}", 1)
    assert len(image_files(tmp_path / "b", max_folders=7)) == 6
    with pytest.raises(DataError, match=r"more than 5 folders \(the limit"):
        image_files(tmp_path / "b", max_folders=5)


# 3. Hidden entries are neither classes nor images.


def test_hidden_folders_and_files_are_ignored(tmp_path):
    for split in ("train", "val"):
        images(tmp_path / split / "cat", 2)
        images(tmp_path / split / "dog", 2, seed=4)
        images(tmp_path / split / ".ipynb_checkpoints", 1)
        images(tmp_path / split / "cat" / ".thumbs", 1)
        (tmp_path / split / "dog" / "._0.jpg").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    train, val, _, classes = image_folder_splits(tmp_path, None, None)
    assert classes == ["cat", "dog"]
    assert train.images.class_to_idx == {"cat": 0, "dog": 1}
    assert train.targets == [0, 0, 1, 1] and val.targets == [0, 0, 1, 1]
    assert all("/." not in path for path, _ in train.images.samples)


# 4. Names that are not UTF-8, or hold a newline, reach the log as one escaped line.


def test_odd_file_names_reach_a_utf8_log_file_as_one_line(tmp_path, capsys):
    images(tmp_path / "a", 2)
    images(tmp_path / "b", 2, seed=2)
    folder_a = os.fsencode(tmp_path / "a")
    with open(os.path.join(folder_a, b"bad\xff.jpg"), "wb") as garbage:
        garbage.write(b"not an image")
    (tmp_path / "a" / "new\nline.jpg").write_bytes(b"not an image either")
    os.symlink(b"/nowhere", os.path.join(folder_a, b"lost\xfe.jpg"))
    handler = logging.FileHandler(tmp_path / "train.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    logging.getLogger("alexnet").addHandler(handler)
    try:
        dataset = SkipBadFiles(CheckedImageFolder(str(tmp_path), loader=load_rgb))
        for index in range(len(dataset)):
            dataset[index]
    finally:
        logging.getLogger("alexnet").removeHandler(handler)
        handler.close()
    assert "Logging error" not in capsys.readouterr().err
    lines = (tmp_path / "train.log").read_text(encoding="utf-8").splitlines()
    assert lines and all(line.startswith("[WARNING] ") for line in lines)
    skipped = [line for line in lines if "Skipped unreadable image" in line]
    assert len(skipped) == 2
    assert any(f"{tmp_path / 'a'}/bad\\xff.jpg" in line for line in skipped)
    assert any(f"{tmp_path / 'a'}/new\\nline.jpg" in line for line in skipped)
    assert any("lost\\xfe.jpg: a broken symbolic link" in line for line in lines)


# 5. EXIF orientation is applied, on both paths.


def oriented_jpeg(path: Path, orientation: int) -> np.ndarray:
    """A 64x32 JPEG of four flat blocks saved with EXIF `orientation`; the pixels a viewer
    shows (as the RGB array PIL's transposition gives)."""
    pixels = np.zeros((32, 64, 3), dtype=np.uint8)
    pixels[:16, :32] = (250, 0, 0)
    pixels[:16, 32:] = (0, 250, 0)
    pixels[16:, :32] = (0, 0, 250)
    pixels[16:, 32:] = (250, 250, 250)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, exif=exif.tobytes(), quality=95)
    turn = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270}
    turn[8] = Image.Transpose.ROTATE_90
    return np.asarray(Image.fromarray(pixels).transpose(turn[orientation])).astype(int)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_on_both_paths(orientation, tmp_path):
    shown = oriented_jpeg(tmp_path / "photo.jpg", orientation)
    loaded = {
        "load_rgb": np.asarray(load_rgb(str(tmp_path / "photo.jpg"))),
        "decode_batch": decode_batch([read_file(str(tmp_path / "photo.jpg"))], torch.device("cpu"))[
            0
        ]
        .permute(1, 2, 0)
        .numpy(),
        "load_encoded": load_encoded(str(tmp_path / "photo.jpg")).permute(1, 2, 0).numpy(),
    }
    for path, pixels in loaded.items():
        assert pixels.shape == shown.shape, path
        assert np.abs(pixels.astype(int) - shown).mean() < 8, path


# 6. Class folders that differ: which names, and Unicode normalization.


def test_differing_class_folders_are_named(tmp_path):
    for name in ("cat", "dog", "owl"):
        images(tmp_path / "train" / name, 1)
    for name in ("cat", "dog", "emu"):
        images(tmp_path / "val" / name, 1)
    with pytest.raises(DataError) as caught:
        image_folder_splits(tmp_path, None, None)
    message = str(caught.value)
    assert "missing from val: 'owl'" in message and "extra in val: 'emu'" in message


def test_class_folders_differing_in_unicode_form_say_so(tmp_path):
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    images(tmp_path / "train" / nfc, 1)
    images(tmp_path / "val" / nfd, 1)
    for split in ("train", "val"):
        images(tmp_path / split / "dog", 1)
    with pytest.raises(DataError) as caught:
        image_folder_splits(tmp_path, None, None)
    message = str(caught.value)
    assert "'caf\\u00e9'" in message and "'cafe\\u0301'" in message
    assert "Unicode normalization" in message and "\n" not in message
