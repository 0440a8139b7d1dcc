"""What the experiment commands share: their sizes, options and output dirs."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the checkout holding the package

# Hydra overrides for the training experiments at each size: `tiny` for the tests (seconds),
# `cpu` the default (minutes on 2 cores), `full` the real alexnet at 224 px on a GPU.
TRAIN_SIZES: dict[str, list[str]] = {
    "tiny": [
        "model=mini",
        "data.image_size=64",
        "data.num_classes=3",
        "data.train_per_class=6",
        "data.val_per_class=3",
        "data.test_per_class=2",
        "data.batch_size=6",
        "data.num_workers=0",
        "trainer=cpu",
        "trainer.max_epochs=2",
        "trainer.log_every_n_steps=1",
        "test=false",
    ],
    "cpu": [
        "model=mini",
        "data.image_size=64",
        "data.num_classes=10",
        "data.train_per_class=100",
        "data.val_per_class=20",
        "data.test_per_class=20",
        "data.batch_size=50",
        "data.num_workers=1",
        "trainer.log_every_n_steps=5",
        "test=false",
    ],
    "full": [
        "model=alexnet",
        "data.image_size=224",
        "data.num_classes=100",
        "data.train_per_class=1000",
        "data.val_per_class=50",
        "data.test_per_class=50",
        "data.batch_size=128",
        "data.num_workers=8",
        "trainer=gpu",
        "test=false",
    ],
}

SYNTHETIC_ONLY = (
    "data.num_classes=",
    "data.train_per_class=",
    "data.val_per_class=",
    "data.test_per_class=",
)
# Seeds per arm at each size: every training experiment reports mean and 95% CI over them.
SEEDS = {"tiny": 1, "cpu": 3, "full": 3}
DATASETS = (
    "synthetic",
    "synthetic_hard",
    "synthetic_hard_v1",
    "imagefolder",
    "cifar10",
    "cifar100",
    "mnist",
    "fashion_mnist",
    "stl10",
    "imagenette",
)


def size_overrides(size: str, data_root: str | None = None, data: str | None = None) -> list[str]:
    """The overrides of `size` on the synthetic data; or on `data` (a data config: a named
    dataset, read from `data_root` if given) or, with only `data_root`, on that ImageFolder."""
    overrides = TRAIN_SIZES[size]
    data = data or ("imagefolder" if data_root else "synthetic")
    if data == "synthetic":
        return list(overrides)
    if data.startswith("synthetic_hard"):  # its own split sizes (calibrated; tiny: the tests')
        return [
            f"data={data}",
            *(o for o in overrides if size == "tiny" or not o.startswith(SYNTHETIC_ONLY[1:])),
        ]
    kept = [o for o in overrides if not o.startswith(SYNTHETIC_ONLY)]
    return [f"data={data}", *([f"data.root={data_root}"] if data_root else []), *kept]


def require_data_at_full(args: argparse.Namespace, expects: str) -> None:
    """`--size full` trains on real data only: without --data or --data-root, one line saying
    what the claim expects (never the easy synthetic task quietly)."""
    if args.size == "full" and not args.report and not (args.data or args.data_root):
        sys.exit(
            f"error: --size full needs --data (or --data-root): this claim expects {expects}; "
            "the synthetic tasks are the tiny and cpu sizes'"
        )


def seed_overrides(seeds: int) -> list[str]:
    """The sweep over seeds 0..n-1 (nothing for one seed: the config's own, 0)."""
    return [f"seed={','.join(str(i) for i in range(seeds))}"] if seeds > 1 else []


def run_sweep(
    overrides: list[str], out: Path, seeds: int, extra: dict[str, Any] | None = None
) -> list:
    """Launch the multirun into out/sweep, then write out/runs.json (the runs' summary, which
    `--report` reads) and out/provenance.json (command, commit, versions, machine, seeds, wall
    time, and `extra`'s keys). Returns the runs."""
    from experiments.lab.provenance import collect, git_state, write_provenance
    from experiments.lab.runs import launch_multirun, load_runs, write_summary

    git, started = git_state(exclude=out), time.perf_counter()
    launch_multirun([*overrides, *seed_overrides(seeds)], out / "sweep")
    try:
        runs = load_runs(out / "sweep")
    except FileNotFoundError:
        runs = []
    completed = [run for run in runs if run.record.get("status") == "completed"]
    if not completed:  # nothing to report: one line and a failed exit, not an empty table
        first = next((run.record.get("error") for run in runs if run.record.get("error")), None)
        sys.exit(
            f"error: every job of the sweep failed ({len(runs)} recorded"
            + (f"; the first: {first}" if first else "")
            + f"); their records: {out / 'sweep'}/*/metrics.json"
        )
    write_summary(runs, out)
    record = collect(list(range(seeds)), time.perf_counter() - started, git=git, out=out)
    write_provenance(out, {**record, **(extra or {})})
    return runs


def report_dirs(args: argparse.Namespace, name: str) -> tuple[Path, Path]:
    """(where the runs are, where the report goes) for `--report DIR [--out OUT]`: OUT gets a
    copy of DIR's runs.json and provenance.json, so it can be re-made from OUT alone; its
    provenance.json records the command and commit re-making the report."""
    from experiments.lab.provenance import mark_report

    source = Path(args.report)
    out = output_dir(name, args.out) if args.out else source
    if out.resolve() != source.resolve():
        for file in ("runs.json", "provenance.json"):
            if (source / file).is_file():
                shutil.copyfile(source / file, out / file)
    mark_report(out)
    return source, out


def experiment_parser(name: str, description: str) -> argparse.ArgumentParser:
    """The options of every training experiment: --size, --out, --data-root, --report."""
    parser = argparse.ArgumentParser(
        description=description, epilog="Other arguments are Hydra overrides for every job."
    )
    parser.add_argument("--size", choices=list(TRAIN_SIZES), default="cpu")
    parser.add_argument("--out", help=f"output dir (default: logs/experiments/{name}/<time>)")
    parser.add_argument(
        "--data",
        choices=DATASETS,
        default=None,
        help="the data config (default: synthetic; imagefolder with --data-root)",
    )
    parser.add_argument("--data-root", help="the ImageFolder, or the named dataset's root")
    parser.add_argument(
        "--seeds",
        type=int_at_least(1),
        default=None,
        help="seeds per arm (default: 1 at tiny, 3 at cpu and full)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        help="re-make the report of this dir (its "
        "runs.json or sweep/); no training; into --out if given",
    )
    return parser


def seeds_of(args: argparse.Namespace) -> int:
    """--seeds, or the size's default."""
    return args.seeds or SEEDS[args.size]


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= `minimum`, else a usage error naming both."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not valid; it must be an integer >= {minimum}"
            )
        return value

    return parse


def output_dir(name: str, out: str | Path | None = None) -> Path:
    """`out`, or logs/experiments/<name>/<date_time> under the project root; created."""
    stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S}"
    path = Path(out) if out else ROOT / "logs" / "experiments" / name / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path
