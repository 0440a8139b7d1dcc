"""A weighted mean that never reads the device in its update."""

from __future__ import annotations

import torch
from torchmetrics import Metric


class WeightedMean(Metric):
    """sum(value * weight) / sum(weight), summed over DDP ranks. torchmetrics' MeanMetric checks
    every update for NaN with ``.any()`` (a host sync per step on a GPU), and its
    ``nan_strategy="disable"`` drops the weights in the installed version. The states keep
    MeanMetric's names (``mean_value``: the weighted sum; ``weight``), so checkpoints that saved
    MeanMetric's running sums load into this one."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("mean_value", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("weight", default=torch.tensor(0.0), dist_reduce_fx="sum")

    def update(self, value: torch.Tensor, weight: float = 1.0) -> None:
        """Add `value` (a scalar tensor, e.g. a batch's mean loss) with `weight` (a Python
        number, e.g. the batch's image count: no host-to-device copy)."""
        self.mean_value += value.detach().to(self.mean_value.dtype).sum() * weight
        self.weight += weight

    def compute(self) -> torch.Tensor:
        return self.mean_value / self.weight
