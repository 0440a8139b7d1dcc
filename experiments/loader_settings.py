"""End-to-end training images/s under each DataLoader setting, side by side in one run.

    python -m experiments.loader_settings [--sources synthetic,imagefolder] [--epochs 3]
                                          [--repeats 2] [Hydra overrides ...]

Each row is the real `python train.py` pipeline (alexnet preset) with one loader setting changed:
workers, persistent workers, prefetch depth; checkpoints, picture callbacks and event files are
off in every row, as their disk writes only add noise.
The rate is training images per second of wall time, validation and epoch
boundaries included (where non-persistent workers pay their start-up), from the end of the
first epoch to the end of the last (set-up and first-epoch warm-up left out). Settings alternate
round by round (--repeats rounds, the median counts) so that drift hits all alike. The synthetic
rows run the default data config; the ImageFolder rows a generated folder of ImageNet-sized JPEGs
(500x375) with the paper's augmentation at 224 px.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch
from hydra.errors import HydraException
from omegaconf import open_dict

from alexnet.config.compose import compose_config
from alexnet.run.api import train
from experiments.lab.harness import int_at_least
from experiments.lab.jpeg_folder import write_jpeg_folder

SETTINGS: dict[str, list[tuple[str, list[str]]]] = {
    "synthetic": [
        ("default", []),
        ("0 workers (main process)", ["data.num_workers=0"]),
        ("1 worker", ["data.num_workers=1"]),
        ("4 workers", ["data.num_workers=4"]),
        ("workers not persistent", ["data.persistent_workers=false"]),
        ("prefetch 4", ["data.prefetch_factor=4"]),
    ],
    "imagefolder": [
        ("default", []),
        ("1 worker", ["data.num_workers=1"]),
        ("2 workers", ["data.num_workers=2"]),
        ("8 workers", ["data.num_workers=8"]),
        ("workers not persistent", ["data.persistent_workers=false"]),
    ],
}


# Pinning only matters where batches cross to a GPU (auto pins there); rows added on one.
CUDA_SETTINGS = [("pinned memory off", ["data.pin_memory=false"])]


def fit_rate(overrides: list[str], out: Path) -> float:
    """Training images per second from the end of the first epoch to the end of the last (the
    epochs' validation and boundaries included; set-up and first-epoch warm-up left out)."""
    cfg = compose_config(overrides, output_dir=out)
    with open_dict(cfg):
        cfg.trainer.enable_progress_bar = False
    first, *_, last = train(cfg)["history"]
    return (last["step"] - first["step"]) * cfg.data.batch_size / (last["time_s"] - first["time_s"])


def sources(text: str) -> list[str]:
    """An argparse type: a comma-separated list of SETTINGS' sources."""
    names = text.split(",")
    for name in names:
        if name not in SETTINGS:
            raise argparse.ArgumentTypeError(
                f"{name!r} is not valid; choose from {', '.join(SETTINGS)}"
            )
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sources",
        type=sources,
        default=["synthetic", "imagefolder"],
        help="comma-separated: synthetic, imagefolder (default: both)",
    )
    parser.add_argument(
        "--epochs", type=int_at_least(2), default=3, help="the first is warm-up, the rest are timed"
    )
    parser.add_argument("--repeats", type=int_at_least(1), default=2)
    parser.add_argument("--train-per-class", type=int_at_least(1), default=100)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every row")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        jpegs = write_jpeg_folder(Path(tmp) / "jpegs", 4, 64, 8)
        base = {
            "synthetic": [f"data.train_per_class={args.train_per_class}", "data.val_per_class=10"],
            "imagefolder": ["data=imagefolder", f"data.root={jpegs}"],
        }
        # Only the loops the loader feeds: no checkpoints, pictures or event files, whose
        # writes would add their own noise to every row alike.
        quiet = [
            "callbacks=none",
            "logger=none",
            "++trainer.enable_checkpointing=false",
            "++trainer.enable_model_summary=false",
        ]
        for source in args.sources:
            common = [
                f"trainer.max_epochs={args.epochs}",
                "test=false",
                *base[source],
                *args.overrides,
            ]
            shown = " ".join(common)
            settings = SETTINGS[source] + (CUDA_SETTINGS if torch.cuda.is_available() else [])
            rates: dict[str, list[float]] = {label: [] for label, _ in settings}
            for repeat in range(args.repeats):
                for row, (label, changes) in enumerate(settings):
                    out = Path(tmp) / f"{source}-{row}-{repeat}"
                    try:
                        rates[label].append(fit_rate(common + quiet + changes, out))
                    except (HydraException, ValueError) as err:  # a bad override: one line
                        parser.error(str(err).splitlines()[0])
            default = statistics.median(rates["default"])
            print(f"\n{source} ({shown})\n")
            print("| setting | training img/s (epochs 2 on, validation included) | x default |")
            print("| --- | ---: | ---: |")
            for label, values in rates.items():
                rate = statistics.median(values)
                print(f"| {label} | {rate:.1f} | {rate / default:.3f} |", flush=True)


if __name__ == "__main__":
    main()
