"""Random-number-generator states in checkpoints, so that a resumed run draws what the
interrupted one would have drawn (dropout masks, augmentation), rank by rank."""

from __future__ import annotations

import logging
import random
from typing import Any

import lightning as L
import numpy as np
import torch

log = logging.getLogger(__name__)
RANK_SEED_STRIDE = 1_000_003  # rank r's generators start from the run's seed + r * this


class RNGState(L.Callback):
    """Saves every rank's own Python, NumPy, torch CPU and current-GPU generator states with
    each checkpoint (gathered to rank zero, which writes it) and restores each rank's own just
    before the first training batch after a resume; resumed on another number of ranks, a rank
    without a saved state starts from its seed, and the log says that the run is no longer
    bit-exact. Under DDP every rank seeds its generators apart (the run's seed + rank x
    RANK_SEED_STRIDE; rank zero keeps the seed), so the ranks draw different dropout masks.
    States are tensors and plain lists: checkpoints stay loadable with ``weights_only=True``."""

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None
        self._trainer: L.Trainer | None = None
        self._epoch_done = False  # every batch of the epoch has run (a save now is at its end)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.world_size > 1 and self._pending is None and trainer.global_rank > 0:
            _seed_all(torch.initial_seed() + trainer.global_rank * RANK_SEED_STRIDE)

    def state_dict(self) -> dict[str, Any]:
        own = _own_state()
        trainer = self._trainer
        at_end = {"at_epoch_end": self._epoch_done}
        if trainer is None or trainer.world_size == 1 or not torch.distributed.is_initialized():
            return {"ranks": [own], **at_end}
        gathered: list[Any] = [None] * trainer.world_size  # every rank saves alike
        torch.distributed.all_gather_object(gathered, own)
        return {"ranks": gathered, **at_end}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = state_dict

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, idx: int
    ) -> None:
        self._epoch_done = idx + 1 >= trainer.num_training_batches

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A checkpoint from an epoch's end: its states are those the next epoch started from,
        before its loader drew the shuffle and worker seeds; restored here, before that."""
        self._epoch_done = False
        if self._pending is not None and self._pending.get("at_epoch_end"):
            self._restore_pending(trainer)

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._pending is not None:  # a mid-epoch checkpoint: the loader restored its place
            self._restore_pending(trainer)

    def _restore_pending(self, trainer: L.Trainer) -> None:
        assert self._pending is not None
        saved, self._pending = self._pending, None
        ranks = saved.get("ranks", [saved])  # a checkpoint from before per-rank states
        if len(ranks) != trainer.world_size and trainer.is_global_zero:
            log.warning(
                "Resumed on %d rank(s) from states saved by %d: the run goes on, but it "
                "no longer draws bit-exactly what the interrupted one would have",
                trainer.world_size,
                len(ranks),
            )
        if trainer.global_rank < len(ranks):
            _restore(ranks[trainer.global_rank])
        else:
            _seed_all(torch.initial_seed() + trainer.global_rank * RANK_SEED_STRIDE)


def _own_state() -> dict[str, Any]:
    kind, keys, position, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [kind, keys.tolist(), position, has_gauss, cached],
        "python": _to_lists(random.getstate()),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()  # this rank's own device
    return state


def _restore(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    random.setstate(_to_tuples(state["python"]))
    cuda = state.get("cuda")
    if isinstance(cuda, torch.Tensor) and torch.cuda.is_available():
        torch.cuda.set_rng_state(cuda.cpu())  # this rank's own device
    elif isinstance(cuda, list | tuple) and cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state(cuda[min(torch.cuda.current_device(), len(cuda) - 1)].cpu())


def _seed_all(seed: int) -> None:
    seed %= 2**32
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _to_lists(value: Any) -> Any:
    return [_to_lists(v) for v in value] if isinstance(value, tuple) else value


def _to_tuples(value: Any) -> Any:
    return tuple(_to_tuples(v) for v in value) if isinstance(value, list) else value
