"""What the experiment commands share: their sizes, options and output dirs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from alexnet.config import CONF_DIR

ROOT = CONF_DIR.parent

# Hydra overrides for the training experiments at each size: `tiny` for the tests (seconds),
# `cpu` the default (minutes on 2 cores), `full` the real alexnet at 224 px on a GPU.
TRAIN_SIZES: dict[str, list[str]] = {
    "tiny": ["model=mini", "data.image_size=64", "data.num_classes=3", "data.train_per_class=6",
             "data.val_per_class=3", "data.test_per_class=2", "data.batch_size=6",
             "data.num_workers=0", "trainer=cpu", "trainer.max_epochs=2",
             "trainer.log_every_n_steps=1", "test=false"],
    "cpu": ["model=mini", "data.image_size=64", "data.num_classes=10", "data.train_per_class=100",
            "data.val_per_class=20", "data.test_per_class=20", "data.batch_size=50",
            "data.num_workers=1", "trainer.log_every_n_steps=5", "test=false"],
    "full": ["model=alexnet", "data.image_size=224", "data.num_classes=100",
             "data.train_per_class=1000", "data.val_per_class=50", "data.test_per_class=50",
             "data.batch_size=128", "data.num_workers=8", "trainer=gpu", "test=false"],
}

SYNTHETIC_ONLY = ("data.num_classes=", "data.train_per_class=", "data.val_per_class=",
                  "data.test_per_class=")


def size_overrides(size: str, data_root: str | None = None) -> list[str]:
    """The overrides of `size`; with `data_root`, on that ImageFolder instead of synthetic data."""
    overrides = TRAIN_SIZES[size]
    if not data_root:
        return list(overrides)
    kept = [o for o in overrides if not o.startswith(SYNTHETIC_ONLY)]
    return ["data=imagefolder", f"data.root={data_root}", *kept]


def experiment_parser(name: str, description: str) -> argparse.ArgumentParser:
    """The options of every training experiment: --size, --out, --data-root, --report."""
    parser = argparse.ArgumentParser(
        description=description, epilog="Other arguments are Hydra overrides for every job.")
    parser.add_argument("--size", choices=list(TRAIN_SIZES), default="cpu")
    parser.add_argument("--out", help=f"output dir (default: logs/experiments/{name}/<time>)")
    parser.add_argument("--data-root", help="an ImageFolder to use instead of synthetic images")
    parser.add_argument("--report", type=Path, help="re-make the report of this dir; no training")
    return parser


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= `minimum`, else a usage error naming both."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not valid; it must be an integer >= "
                                             f"{minimum}")
        return value
    return parse


def output_dir(name: str, out: str | Path | None = None) -> Path:
    """`out`, or logs/experiments/<name>/<date_time> under the project root; created."""
    stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S}"
    path = Path(out) if out else ROOT / "logs" / "experiments" / name / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path
