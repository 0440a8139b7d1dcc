"""Fixed samples of a split, the same on every call: what pictures and reports are drawn from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
from lightning import LightningDataModule
from torch.utils.data import Dataset


def unaugmented_train_samples(
    datamodule: LightningDataModule, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` training images drawn at random (from a fixed seed: the same on every call; a
    stride or a prefix could miss classes where the split is ordered by class or interleaved),
    through the validation pipeline, and their labels (ten-crop evaluation: the centre crop)."""
    dataset = datamodule.unaugmented_train_split()
    chosen = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:count]
    return _samples(dataset, sorted(chosen.tolist()), 0)


def fixed_samples(
    datamodule: LightningDataModule, split: str, count: int, start: int = 0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images `start`..`start + count` of a set-up datamodule's split (fewer if it is shorter)
    and their labels: a training split's random augmentation is drawn from `seed`, ten-crop
    evaluation keeps the centre crop, and synthetic images meant for the device are drawn on the
    CPU."""
    dataset = datamodule.datasets[split]
    end = min(start + count, len(dataset))
    decode = (
        partial(datamodule.decode_samples, split=split)
        if getattr(datamodule, "decode", "loader") == "device"
        else None
    )
    return _samples(dataset, range(min(start, len(dataset)), end), seed, decode)


def _samples(
    dataset: Dataset,
    indices: Sequence[int],
    seed: int,
    decode: Callable[[list[torch.Tensor]], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        items = [dataset[i] for i in indices]
    labels = torch.tensor([label for _, label in items], dtype=torch.long)
    if getattr(dataset, "deferred", False):
        return dataset.render_batch(torch.tensor(list(indices)), torch.device("cpu")), labels
    images = [image for image, _ in items]
    if decode is not None:  # encoded files (decode=device): decoded as the device would
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            batch = decode(images)
    else:
        batch = torch.stack(images)
    if batch.dim() == 5:  # ten crops: keep the centre crop
        batch = batch[:, 4]
    return batch, labels
