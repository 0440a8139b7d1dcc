"""The DataLoaders of the DataModule, built in one place: their device- and worker-dependent
settings, the samplers under DDP, and how a worker starts.

The training loader saves its position (and its sampler's generator) in checkpoints: a run
resumed from a mid-epoch checkpoint sees exactly the batches the interrupted one would have seen.
The training order depends only on data.seed and the epoch (on one device too), and every loader
draws its worker seeds from a generator of its own, never from the global RNG: a resumed run
creates its iterators at other moments than the uninterrupted run did (persistent workers, a
checkpoint at an epoch's end), and a draw from the global RNG there would change the order or
shift the dropout masks of every later epoch.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from lightning.fabric.utilities.seed import pl_worker_init_function
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torchdata.stateful_dataloader import StatefulDataLoader

from alexnet.data.encoded import collate_encoded
from alexnet.errors import DataError
from alexnet.signals import ignore_requeue_signals

# Under DDP: the world size, this rank, and the trainer's current epoch.
Ranks = tuple[int, int, Callable[[], int]]


def build_loader(
    dataset: Dataset,
    split: str,
    batch_size: int,
    shuffle: bool,
    seed: int,
    settings: LoaderSettings,
    timeout_s: float,
    collate: Callable | None,
    ranks: Ranks | None,
) -> DataLoader:
    """The loader of one split (the module's docstring)."""
    sampler = distributed_sampler(dataset, split, seed, ranks)
    workers = settings.num_workers
    loader = StatefulDataLoader if split == "train" else DataLoader
    return loader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        num_workers=workers,
        pin_memory=settings.pin_memory,
        persistent_workers=settings.persistent_workers,
        prefetch_factor=settings.prefetch_factor,
        drop_last=False,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(seed),
        timeout=timeout_s if workers > 0 else 0,
        worker_init_fn=partial(init_worker, rank=ranks[1] if ranks else 0) if workers else None,
    )


def distributed_sampler(
    dataset: Dataset, split: str, seed: int, ranks: Ranks | None
) -> DistributedSampler | None:
    """Under DDP, each rank evaluates its own share of the images, none repeated (Lightning's
    DistributedSampler pads the set with repeats, which skews the metrics); it trains on a
    DistributedSampler whose order depends only on data.seed and the epoch (Lightning's
    replacement shuffles with a sampler seeded from the global generator when the epoch's
    iterator is made, so a run resumed mid-epoch saw other batches than the interrupted one
    would have)."""
    if ranks is None:
        return None
    world, rank, epoch = ranks
    if split == "train":  # on one device too: a resumed epoch shuffles as the uninterrupted one
        return EpochDistributedSampler(dataset, world, rank, seed, epoch)
    if world < 2:
        return None
    if len(dataset) < world:  # Lightning's sampler asserts it: say it first
        raise DataError(
            f"the {split} split has {len(dataset)} images, fewer than the {world} "
            "ranks: every rank needs one"
        )
    # Rank r of n takes images r, r + n, ...: every image once, ranks may differ by one.
    return UnrepeatedDistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=False)


@dataclass(frozen=True)
class LoaderSettings:
    """The DataLoader options that depend on the device and the worker count."""

    num_workers: int
    pin_memory: bool
    persistent_workers: bool
    prefetch_factor: int | None


def loader_settings(
    device_type: str | None,
    num_workers: int,
    pin_memory: bool | str = "auto",
    persistent_workers: bool = True,
    prefetch_factor: int | None = 2,
) -> LoaderSettings:
    """The loader options for batches bound for `device_type` (``cuda``, ``cpu``, ``mps``;
    None before a trainer is attached). ``pin_memory="auto"`` pins for a CUDA device only
    (page-locked batches copy to a GPU asynchronously). Persistent workers and a prefetch
    factor only with workers (DataLoader rejects either without them)."""
    pins = device_type == "cuda" if pin_memory == "auto" else bool(pin_memory)
    has_workers = num_workers > 0
    return LoaderSettings(
        num_workers=num_workers,
        pin_memory=pins,
        persistent_workers=persistent_workers and has_workers,
        prefetch_factor=prefetch_factor if has_workers else None,
    )


class EpochDistributedSampler(DistributedSampler):
    """DistributedSampler whose shuffle follows the trainer's current epoch when an iterator is
    made: a run resumed mid-epoch makes its iterator (and fast-forwards it to the saved position)
    before Lightning calls set_epoch, and would replay epoch 0's order."""

    def __init__(
        self, dataset: Dataset, num_replicas: int, rank: int, seed: int, epoch: Callable[[], int]
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        self._epoch = epoch

    def __iter__(self):  # noqa: ANN204 - an iterator of indices
        self.set_epoch(self._epoch())
        return super().__iter__()


def init_worker(worker_id: int, rank: int = 0) -> None:
    """A DataLoader worker: ignore SLURM's warning signal (alexnet.signals), then seed as
    Lightning does when `seed_everything(workers=True)` asked for it."""
    ignore_requeue_signals()
    if os.environ.get("PL_SEED_WORKERS") == "1":
        pl_worker_init_function(worker_id, rank)


class SplitLoaders:
    """The DataModule's train/val/test loaders (AlexNetDataModule sets what is used here)."""

    datasets: dict[str, Dataset]
    batch_size: int
    seed: int
    num_workers: int
    pin_memory: bool | str
    persistent_workers: bool
    prefetch_factor: int | None
    loader_timeout_s: float
    decode: str
    trainer: Any
    order_offset: int = 0  # moves the loaders' order and worker seeds, never the images

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        trainer = self.trainer
        device_type = trainer.strategy.root_device.type if trainer is not None else None
        return build_loader(
            self.datasets[split],
            split,
            self.batch_size,
            shuffle,
            self.seed + self.order_offset,
            loader_settings(
                device_type,
                self.num_workers,
                self.pin_memory,
                self.persistent_workers,
                self.prefetch_factor,
            ),
            self.loader_timeout_s,
            collate_encoded if self.decode == "device" else None,
            None
            if trainer is None
            else (trainer.world_size, trainer.global_rank, partial(epoch_to_run, trainer)),
        )


def epoch_to_run(trainer: Any) -> int:
    """The epoch whose batches the training loader is about to serve: the epochs processed so
    far. Not `current_epoch`, which lags by one when a run resumes from a checkpoint taken at
    an epoch's end (the epoch was processed, not yet counted complete)."""
    return trainer.fit_loop.epoch_progress.current.processed
