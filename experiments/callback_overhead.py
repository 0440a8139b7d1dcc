"""Training throughput with the default TensorBoard callbacks against none, in one run.

    python experiments/callback_overhead.py [--epochs 2] [--train-per-class 250] [--repeats 1]

Both runs are the real `python train.py` pipeline (alexnet preset, synthetic data, TensorBoard
logger, checkpoints, LR monitor); one has the picture callbacks of `callbacks=default`, one not.
Each fit's wall time includes its validation, where the picture callbacks run, so the ratio is
what the callbacks cost.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from omegaconf import open_dict

from alexnet.config import compose_config
from alexnet.run import train

PICTURES = ("filters", "feature_maps", "activation_stats", "confusion_matrix", "hparams")


def fit_rate(pictures: bool, args: argparse.Namespace, out: Path) -> float:
    """Training images per second of one fit, with or without the picture callbacks."""
    overrides = [f"trainer.max_epochs={args.epochs}", "test=false",
                 f"data.train_per_class={args.train_per_class}"]
    cfg = compose_config(overrides, output_dir=out)
    with open_dict(cfg):
        cfg.callbacks.progress_bar.refresh_rate = 0
        for name in () if pictures else PICTURES:
            cfg.callbacks.pop(name)
    start = time.perf_counter()
    record = train(cfg)
    seconds = time.perf_counter() - start
    return record["global_step"] * cfg.data.batch_size / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-per-class", type=int, default=250,
                        help="250: the default run's epoch (2,500 images)")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"none": [], "default": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for option in ("none", "default"):
                rate = fit_rate(option == "default", args, Path(tmp) / f"{option}{repeat}")
                rates[option].append(rate)
    none, default = max(rates["none"]), max(rates["default"])
    print("| callbacks | training img/s (fit wall time, incl. validation) |")
    print("| --- | ---: |")
    print(f"| none | {none:.1f} |")
    print("| default (filters, feature maps, activation stats, confusion, hparams) | "
          f"{default:.1f} |")
    print(f"\nratio default / none: {default / none:.3f}")


if __name__ == "__main__":
    main()
