"""The weights a run started from, for measures of what training changed (W - W0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning as L
import torch

STATE_KEY = "InitialWeights"


class InitialWeights(L.Callback):
    """Keeps a copy of the named parameters (of the LightningModule's ``model``) as they were
    before the first optimizer step, in the run's checkpoints; a resumed run keeps the copy it
    was saved with. Read it back with `initial_weights(checkpoint)`."""

    def __init__(self, parameters: Sequence[str] = ("features.0.weight",)) -> None:
        self.parameters = list(parameters)
        self.weights: dict[str, torch.Tensor] = {}

    @property
    def state_key(self) -> str:
        return STATE_KEY

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.weights or trainer.global_step > 0:
            return  # resumed: the copy came with the checkpoint (or the run began without one)
        named = dict(pl_module.model.named_parameters())
        missing = [name for name in self.parameters if name not in named]
        if missing:
            raise KeyError(
                f"callbacks.initial_weights.parameters: no parameter {missing} in the "
                f"model; its first ones: {', '.join(list(named)[:6])}"
            )
        self.weights = {name: named[name].detach().cpu().clone() for name in self.parameters}

    def state_dict(self) -> dict[str, Any]:
        return {"weights": self.weights}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.weights = dict(state_dict["weights"])


def initial_weights(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The initial weights an InitialWeights callback kept in `checkpoint` (a loaded .ckpt)."""
    state = checkpoint.get("callbacks", {}).get(STATE_KEY)
    if not state:
        raise KeyError(
            "this checkpoint has no initial weights: train with "
            "+callbacks.initial_weights._target_="
            "alexnet.callbacks.initial_weights.InitialWeights"
        )
    return state["weights"]
