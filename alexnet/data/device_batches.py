"""Batches finished on the training device: synthetic images drawn there
(``data.render_on=device``) and ImageFolder JPEGs decoded and transformed there
(``data.decode=device``). The DataModule's transfer hooks, as a mixin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from alexnet.data.batch_transforms import BatchTransform
from alexnet.data.encoded import EncodedBatch, decode_batch
from alexnet.data.synthetic import SPLITS

SPLIT_NAMES = {number: name for name, number in SPLITS.items()}


@dataclass  # not frozen: Lightning's transfer rebuilds dataclasses (holding no tensor: as is)
class DrawLater:
    """Synthetic images to draw once the batch is on its device (``render_on=device``): which
    split and indices, as host numbers (the transfer leaves them alone)."""

    split: str
    indices: list[int]


class DeviceBatches:
    """The transfer hooks of AlexNetDataModule (which sets the attributes used here)."""

    render_on: str
    decode: str
    bad_files: str
    augment: str
    eval_crop: str
    image_size: int
    resize_size: int
    pca_sigma: float
    stats: Any
    datasets: dict[str, Any]
    trainer: Any
    _batch_transforms: dict[tuple, BatchTransform]

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """With ``decode=device``: decode and transform the batch's JPEGs on the device. With
        ``render_on=device``: read the batch's (split, index) pairs here, on the host, so that
        drawing them after the transfer never reads the device."""
        if not is_pair(batch):  # e.g. the model summary's example input
            return batch
        inputs, labels = batch
        if self.render_on == "device" and isinstance(inputs, torch.Tensor) and inputs.dim() == 2:
            return DrawLater(SPLIT_NAMES[int(inputs[0, 0])], inputs[:, 1].tolist()), labels
        if self.decode != "device" or not isinstance(inputs, (EncodedBatch, list)):
            return batch
        trainer = self.trainer
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        images = decode_batch(inputs, device, self.bad_files)
        return self._batch_transform(trainer is not None and trainer.training)(images), labels

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """With ``render_on=device``: draw the batch's images where the batch now is."""
        if not is_pair(batch):
            return batch
        inputs, labels = batch
        if not isinstance(inputs, DrawLater):
            return batch
        return self.datasets[inputs.split].render_batch(inputs.indices, labels.device), labels

    def decode_samples(self, encoded: list[torch.Tensor], split: str) -> torch.Tensor:
        """Items of `split` read with ``decode=device`` (JPEG bytes), decoded and transformed on
        the CPU as the device does: the fixed samples pictures are drawn from."""
        images = decode_batch(encoded, torch.device("cpu"), self.bad_files)
        return self._batch_transform(split == "train")(images)

    def _batch_transform(self, train: bool) -> BatchTransform:
        """The loader's transform of `train` (or evaluation), batched (``decode=device``)."""
        key = (train, self.image_size, self.resize_size, tuple(map(tuple, self.stats)))
        if key not in self._batch_transforms:
            self._batch_transforms[key] = BatchTransform(
                train,
                self.augment,
                self.eval_crop,
                self.image_size,
                self.resize_size,
                self.pca_sigma,
                self.stats,
            )
        return self._batch_transforms[key]


def is_pair(batch: Any) -> bool:
    """An (inputs, labels) batch of this datamodule's loaders."""
    return isinstance(batch, (tuple, list)) and len(batch) == 2
