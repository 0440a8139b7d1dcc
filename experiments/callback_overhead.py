"""Training throughput with the TensorBoard callbacks against without them, in one run.

    python -m experiments.callback_overhead [--epochs 2] [--train-per-class 250] [--repeats 1]
                                            [hydra overrides ...]

Three fits of the real `python train.py` pipeline (alexnet preset, synthetic data, TensorBoard
logger, checkpoints, LR monitor), alternating in each repeat:
- no pictures: `callbacks=default` without its picture callbacks;
- default: `callbacks=default` (filters, feature maps, activation statistics, confusion, hparams);
- interpret: `callbacks=interpret` (default + Grad-CAM, nearest neighbours, the projector).
Each fit's wall time includes its validation, where the picture callbacks run, so the ratios are
what the callbacks cost; the best of the repeats is kept.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from omegaconf import open_dict

from alexnet.config.compose import compose_config
from alexnet.run.api import train

PICTURES = ("filters", "feature_maps", "activation_stats", "confusion_matrix", "hparams")
OPTIONS = {"no pictures": "default", "default": "default", "interpret": "interpret"}


def fit_rate(option: str, args: argparse.Namespace, overrides: list[str], out: Path) -> float:
    """Training images per second of one fit with the callbacks of `option`."""
    cfg = compose_config(
        [
            f"trainer.max_epochs={args.epochs}",
            "test=false",
            f"data.train_per_class={args.train_per_class}",
            f"callbacks={OPTIONS[option]}",
            *overrides,
        ],
        output_dir=out,
    )
    with open_dict(cfg):
        cfg.callbacks.progress_bar.refresh_rate = 0
        for name in PICTURES if option == "no pictures" else ():
            cfg.callbacks.pop(name)
    start = time.perf_counter()
    record = train(cfg)
    seconds = time.perf_counter() - start
    return record["global_step"] * cfg.data.batch_size / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--train-per-class",
        type=int,
        default=250,
        help="250: the default run's epoch (2,500 images)",
    )
    parser.add_argument("--repeats", type=int, default=1)
    args, overrides = parser.parse_known_args()
    rates: dict[str, list[float]] = {option: [] for option in OPTIONS}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for index, option in enumerate(OPTIONS):
                out = Path(tmp) / f"{index}_{repeat}"
                rates[option].append(fit_rate(option, args, overrides, out))
    best = {option: max(values) for option, values in rates.items()}
    print(
        "| callbacks | training img/s (fit wall time, incl. validation) | / no pictures |"
        " / default |"
    )
    print("| --- | ---: | ---: | ---: |")
    for option, rate in best.items():
        print(
            f"| {option} | {rate:.1f} | {rate / best['no pictures']:.3f} | "
            f"{rate / best['default']:.3f} |"
        )


if __name__ == "__main__":
    main()
