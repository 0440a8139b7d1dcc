"""What the experiments share: output dirs, tables (markdown + CSV), Hydra sweeps and their runs,
generated JPEG folders.

Experiments train through the real `python train.py -m ...` and read back each job's own files
(config.yaml, metrics.json with its per-epoch history), so a report can be re-made from a sweep
dir at any time without retraining.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from alexnet.config import CONF_DIR

ROOT = CONF_DIR.parent
log = logging.getLogger(__name__)

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


def sweep_of(report_dir: Path) -> Path:
    """The sweep dir of an experiment's output dir (or the dir itself if it is a sweep)."""
    return report_dir / "sweep" if (report_dir / "sweep").is_dir() else report_dir


def write_jpeg_folder(root: Path, classes: int, train_per_class: int,
                      val_per_class: int) -> Path:
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


def output_dir(name: str, out: str | Path | None = None) -> Path:
    """`out`, or logs/experiments/<name>/<date_time> under the project root; created."""
    stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S}"
    path = Path(out) if out else ROOT / "logs" / "experiments" / name / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return "" if value is None else str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """`rows` as a markdown table; numbers right-aligned, floats to 4 significant digits."""
    columns = list(columns or (rows[0].keys() if rows else []))
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows)
               for c in columns]
    lines = ["| " + " | ".join(columns) + " |",
             "| " + " | ".join("---:" if n else "---" for n in numeric) + " |"]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_table(rows: Sequence[Mapping[str, Any]], stem: Path,
                columns: Sequence[str] | None = None) -> str:
    """Write `stem`.md and `stem`.csv (full precision); return the markdown."""
    columns = list(columns or (rows[0].keys() if rows else []))
    markdown = markdown_table(rows, columns)
    stem.with_suffix(".md").write_text(markdown)
    with stem.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return markdown


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts of strings."""
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def launch_multirun(overrides: Iterable[str], sweep_dir: Path, quiet: bool = False) -> None:
    """Run `python train.py -m <overrides>` with its jobs under `sweep_dir`; raise if it fails."""
    command = [sys.executable, str(ROOT / "train.py"), "-m", *overrides,
               f"hydra.sweep.dir={sweep_dir}"]
    log.info("Running: %s", " ".join(command))
    result = subprocess.run(command, cwd=ROOT, text=True,
                            capture_output=quiet)
    if result.returncode != 0:
        tail = (result.stderr or "")[-3000:] if quiet else ""
        raise RuntimeError(f"the sweep failed (exit {result.returncode}): {' '.join(command)}\n{tail}")


@dataclass(frozen=True)
class Run:
    """One finished job of a sweep: its dir, resolved config, and metrics.json."""

    path: Path
    config: dict[str, Any]
    summary: dict[str, Any]

    @property
    def metrics(self) -> dict[str, float]:
        return self.summary.get("metrics", {})

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.summary.get("history", [])

    def first(self, key: str, reached: float, below: bool = False) -> dict[str, Any] | None:
        """The first epoch entry whose `key` is >= `reached` (<= with `below`), if any."""
        for entry in self.history:
            value = entry.get(key)
            if value is not None and (value <= reached if below else value >= reached):
                return entry
        return None


def load_runs(sweep_dir: Path) -> list[Run]:
    """The jobs of a sweep dir that wrote their metrics, in job order."""
    runs = []
    for metrics in sorted(Path(sweep_dir).glob("*/metrics.json"), key=_job_order):
        config_path = metrics.parent / "config.yaml"
        config = yaml.safe_load(config_path.read_text()) if config_path.is_file() else {}
        runs.append(Run(metrics.parent, config, json.loads(metrics.read_text())))
    if not runs:
        raise FileNotFoundError(f"no finished runs (*/metrics.json) under {sweep_dir}")
    return runs


def _job_order(path: Path) -> tuple[int, str]:
    name = path.parent.name
    return (int(name), name) if name.isdigit() else (sys.maxsize, name)
