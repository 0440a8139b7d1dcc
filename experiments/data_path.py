"""Does the data path keep the model busy? End-to-end training against the model fed from memory,
side by side in one run, with the synthetic cache off (before) and on (after).

    python -m experiments.data_path [--image-size 112] [--epochs 3] [--rounds 2]
                                    [--precision 32-true] [--channels-last]
                                    [--train-per-class 100] [--preset alexnet] [--out DIR]

Each row trains the same AlexNetModule with the real Lightning Trainer for a few epochs, no
validation, checkpoints or pictures: once from the real AlexNetDataModule (synthetic images,
its default loader settings, `data.cache` off or on), once from the same images already in
memory as tensors (a plain DataLoader over a TensorDataset, no workers: the model alone). The
rate is the training images per second over the epochs after the first (worker start-up and the
cache's one rendering excluded), the median over alternating rounds; end-to-end / model-only is
the share of the model's speed the data path leaves it. Writes data_path.md/.csv and
provenance.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from alexnet import AlexNetDataModule, AlexNetModule
from alexnet.tables import write_table
from experiments.lab.harness import int_at_least, output_dir
from experiments.lab.provenance import recorded

DATA = {
    "preset": "alexnet",
    "num_classes": 10,
    "train_per_class": 100,
    "val_per_class": 1,
    "test_per_class": 1,
    "batch_size": 64,
}


class EpochClock(L.Callback):
    """Seconds of each training epoch (the loop only: no validation runs)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def train_rate(
    loader: DataLoader | None,
    datamodule: AlexNetDataModule | None,
    epochs: int,
    precision: str,
    channels_last: bool,
    images: int,
) -> float:
    """Training images/s over epochs 2.. of a fresh module fed by `loader` or `datamodule`."""
    torch.manual_seed(0)
    module = AlexNetModule(
        {"preset": DATA["preset"], "num_classes": DATA["num_classes"]}, channels_last=channels_last
    )
    clock = EpochClock()
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=epochs,
        precision=precision,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[clock],
    )
    if datamodule is not None:
        trainer.fit(module, datamodule=datamodule)
    else:
        trainer.fit(module, train_dataloaders=loader)
    return images * (epochs - 1) / sum(clock.seconds[1:])


def _data() -> dict:
    return {k: v for k, v in DATA.items() if k != "preset"}


def in_memory(image_size: int) -> DataLoader:
    """The same training images, rendered once and held as tensors: the model alone."""
    datamodule = AlexNetDataModule(image_size=image_size, num_workers=0, **_data())
    datamodule.setup()
    train = datamodule.datasets["train"]
    images = torch.stack([train[i][0] for i in range(len(train))])
    labels = torch.tensor([train[i][1] for i in range(len(train))])
    return DataLoader(TensorDataset(images, labels), batch_size=DATA["batch_size"], shuffle=True)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int_at_least(63), default=112)
    parser.add_argument("--epochs", type=int_at_least(2), default=3)
    parser.add_argument("--rounds", type=int_at_least(1), default=2)
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--train-per-class", type=int_at_least(1), default=100)
    parser.add_argument("--preset", default="alexnet", help="the model (default alexnet)")
    parser.add_argument("--out", help="output dir (default: logs/experiments/data_path/<time>)")
    args = parser.parse_args(argv)
    DATA.update(train_per_class=args.train_per_class, preset=args.preset)
    out = output_dir("data_path", args.out)
    images = DATA["num_classes"] * DATA["train_per_class"]
    memory = in_memory(args.image_size)
    settings = {"before: data.cache=false": False, "after: data.cache=true": True}
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in settings}
    with recorded(out):
        for _ in range(args.rounds):  # alternate: both see the machine as it is at the time
            for name, cache in settings.items():
                datamodule = AlexNetDataModule(image_size=args.image_size, cache=cache, **_data())
                end_to_end = train_rate(
                    None, datamodule, args.epochs, args.precision, args.channels_last, images
                )
                model_only = train_rate(
                    memory, None, args.epochs, args.precision, args.channels_last, images
                )
                rates[name].append((end_to_end, model_only))
        rows = []
        for name, pairs in rates.items():
            rows.append(
                {
                    "data path": name,
                    "image size": args.image_size,
                    "precision": args.precision + (" channels_last" if args.channels_last else ""),
                    "end-to-end img/s": round(statistics.median(p[0] for p in pairs), 1),
                    "model-only img/s": round(statistics.median(p[1] for p in pairs), 1),
                    "end-to-end / model-only": round(
                        statistics.median(p[0] / p[1] for p in pairs), 3
                    ),
                    "rounds": len(pairs),
                }
            )
        print(write_table(rows, out / "data_path"))
    return out


if __name__ == "__main__":
    main()
