"""Shared fixtures: tiny ImageFolders written as real image files, and Hydra composition."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from omegaconf import DictConfig
from PIL import Image

from alexnet.config.compose import compose_config
from tests.support.processes import run_python

ROOT = Path(__file__).resolve().parents[1]
# Under `pytest -n N`, one thread per worker (and per process it starts): N workers on N cores
# without oversubscription (the suite ran 442 s this way against 564-638 s with every worker
# on every core). A thread count the user sets is kept; runs compared bit for bit start both
# sides in the same environment either way.
if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
# A small, fast run: the mini preset on 64-pixel images, in-process, no loader workers.
TINY = [
    "model=mini",
    "data.image_size=64",
    "data.batch_size=4",
    "data.num_workers=0",
    "data.train_per_class=4",
    "data.val_per_class=2",
    "data.test_per_class=2",
    "data.num_classes=3",
    "trainer=cpu",
]


def write_image(path: Path, mode: str, size: tuple[int, int], seed: int) -> None:
    """A random image of `mode` (RGB, L, RGBA, P, CMYK) saved by its suffix (jpg or png)."""
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    image = rgb.convert(mode) if mode != "P" else rgb.quantize(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def make_image_folder(root: Path, classes: int = 3, per_class: int = 4, split: bool = True) -> Path:
    """ImageNet layout (train/ and val/) or plain class folders, with odd modes and sizes."""
    odd = [
        ("L", "jpg", (80, 70)),
        ("RGBA", "png", (90, 90)),
        ("P", "png", (72, 96)),
        ("CMYK", "jpg", (100, 80)),
        ("RGB", "jpg", (12, 9)),
    ]  # the last one is tiny
    folders = [("train", per_class), ("val", 2)] if split else [("", per_class + 2)]
    seed = 0
    for folder, count in folders:
        for c in range(classes):
            for i in range(count):
                mode, suffix, size = odd[(seed) % len(odd)] if i == 0 else ("RGB", "jpg", (96, 80))
                write_image(root / folder / f"class{c}" / f"img{i}.{suffix}", mode, size, seed)
                seed += 1
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "images")


def compose_train(*overrides: str, output_dir: Path | None = None) -> DictConfig:
    """The composed train config, as `python train.py <overrides>` would see it."""
    return compose_config(overrides, output_dir=output_dir)


def run_script_in_root(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `python <args>` (a script and its overrides, or ``-m module ...``) in the project
    root, as a user would, capturing its output: a plain process of its own
    (tests/support/processes.py)."""
    return run_python(ROOT, list(args), timeout)


@pytest.fixture(autouse=True)
def _ctrl_c_as_a_terminal_gives_it():
    """After each test, SIGINT raises KeyboardInterrupt again in this process, as in a fresh
    `python`: a test whose in-process run handled a Ctrl-C leaves it ignored (Lightning does,
    for its shutdown), and a process started later would inherit that through exec."""
    yield
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def run_script() -> Callable[..., subprocess.CompletedProcess]:
    """The one way tests start real processes: ``run_script("train.py", "model=mini", ...)``."""
    return run_script_in_root


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first (in their files' order). `--dist worksteal` hands each worker a
    contiguous slice of this list, so worker 0 starts on the slow tests (whole sweeps, DDP,
    SLURM jobs: two processes or the cluster's two CPUs each) while the others run the short
    ones beside them, then steal from worker 0's tail. Sharing the slow tests between the slices
    instead ran two of them at once, competing for the two cores and the cluster's CPUs: 735 s
    against 692 s for the suite under `-n 2` (2-core AMD EPYC)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
