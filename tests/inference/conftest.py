"""A tiny model trained on a real ImageFolder (JPEG and PNG files of odd modes and sizes), once
per test process: the checkpoint that predict and export read (none of them writes into it)."""

from pathlib import Path

import pytest

from alexnet.run.api import train
from tests.conftest import TINY, compose_train, write_image

CLASSES = ("cat", "dog", "owl")


def photo_folder(root: Path, val_per_class: int = 5) -> Path:
    """root/train and root/val with CLASSES, each image a different random picture."""
    seed = 0
    for split, count in (("train", 6), ("val", val_per_class)):
        for name in CLASSES:
            for index in range(count):
                mode, suffix = (("L", "png"), ("RGB", "jpg"), ("CMYK", "jpg"))[seed % 3]
                size = (70 + seed % 30, 60 + (seed * 7) % 40)
                write_image(root / split / name / f"{index}.{suffix}", mode, size, seed)
                seed += 1
    return root


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """The run dir of 2 epochs of the mini preset on `photo_folder` (64 px)."""
    tmp = tmp_path_factory.mktemp("trained")
    root = photo_folder(tmp / "photos")
    data = [o for o in TINY if not o.startswith(("data.num_classes", "data.val_per"))]
    cfg = compose_train(
        *data,
        "data=imagefolder",
        f"data.root={root}",
        "trainer.max_epochs=2",
        "logger=none",
        "callbacks=none",
        "test=false",
        output_dir=tmp / "run",
    )
    train(cfg)
    return tmp / "run"
