"""InitialWeights keeps the weights a run started from, in its checkpoints."""

import pytest
import torch

from alexnet.callbacks.initial_weights import initial_weights
from alexnet.run.api import train
from alexnet.run.checkpoints import resolve_checkpoint
from alexnet.training.module import AlexNetModule
from tests.conftest import TINY, compose_train

KEEP = "+callbacks.initial_weights._target_=alexnet.callbacks.initial_weights.InitialWeights"


def run(tmp_path, name: str, *overrides: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(the kept initial conv1 weights, the final ones) of a 1-epoch tiny run."""
    train(
        compose_train(
            *TINY,
            "trainer.max_epochs=1",
            "test=false",
            "logger=none",
            "callbacks=none",
            "optimizer=adamw",
            "seed=3",
            KEEP,
            *overrides,
            output_dir=tmp_path / name,
        )
    )
    path = resolve_checkpoint(tmp_path / name)
    kept = initial_weights(torch.load(path, map_location="cpu", weights_only=True))
    final = AlexNetModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return kept["features.0.weight"], final.model.features[0].weight.detach()


def test_the_kept_weights_are_the_init_before_any_step(tmp_path):
    still, still_final = run(tmp_path, "still", "model.freeze=features")
    kept, final = run(tmp_path, "moved")
    # Frozen, conv1 never moves: what was kept is the init, exactly.
    assert torch.equal(still, still_final)
    # The same seed starts from the same init; training moved it, and not what was kept.
    assert torch.equal(kept, still) and not torch.allclose(kept, final, atol=1e-4)


def test_a_checkpoint_without_them_names_the_callback(tmp_path):
    train(
        compose_train(
            *TINY,
            "trainer.max_epochs=1",
            "test=false",
            "logger=none",
            "callbacks=none",
            output_dir=tmp_path / "run",
        )
    )
    checkpoint = torch.load(resolve_checkpoint(tmp_path / "run"), weights_only=True)
    with pytest.raises(KeyError, match="callbacks.initial_weights"):
        initial_weights(checkpoint)
