"""Fixed samples of a split, the same on every call: what pictures and reports are drawn from."""

from __future__ import annotations

import torch
from lightning import LightningDataModule


def fixed_samples(datamodule: LightningDataModule, split: str, count: int, start: int = 0,
                  seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Images `start`..`start + count` of a set-up datamodule's split (fewer if it is shorter)
    and their labels: a training split's random augmentation is drawn from `seed`, ten-crop
    evaluation keeps the centre crop, and synthetic images meant for the device are drawn on the
    CPU."""
    dataset = datamodule.datasets[split]
    indices = range(min(start, len(dataset)), min(start + count, len(dataset)))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        items = [dataset[i] for i in indices]
    labels = torch.tensor([label for _, label in items], dtype=torch.long)
    if getattr(dataset, "deferred", False):
        return dataset.render_batch(torch.tensor(list(indices)), torch.device("cpu")), labels
    batch = torch.stack([image for image, _ in items])
    if batch.dim() == 5:  # ten crops: keep the centre crop
        batch = batch[:, 4]
    return batch, labels
