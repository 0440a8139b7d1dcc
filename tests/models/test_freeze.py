"""model.freeze: the layers it leaves trainable and the optimizer given only those, and our own
checkpoint loaded as model.weights and fine-tuned with its features frozen, through training and
resume (loading weights: tests/models/test_weights.py)."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from alexnet.errors import InvalidValue
from alexnet.models import create_model
from alexnet.models.weights import FREEZES, freeze, head_name, load_weights, trainable_parameters
from alexnet.run.api import train
from alexnet.run.checkpoints import resolve_checkpoint
from alexnet.training.module import AlexNetModule
from tests.conftest import TINY, compose_train


def test_our_checkpoint_loads_and_features_stay_frozen_in_training_and_resume(tmp_path):
    first = train(
        compose_train(
            *TINY,
            "trainer.max_epochs=1",
            "logger=none",
            "test=false",
            output_dir=tmp_path / "first",
        )
    )
    checkpoint = torch.load(first["best_checkpoint"], weights_only=True)
    trained = {
        k.removeprefix("model."): v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("model.")
    }
    model = create_model("mini", num_classes=3)
    assert load_weights(model, first["best_checkpoint"])["kind"] == "checkpoint"
    assert all(torch.equal(model.state_dict()[k], v) for k, v in trained.items())

    # Fine-tune it with the conv stack frozen, then resume that run one more epoch.
    tuned = [
        "trainer.max_epochs=1",
        "logger=none",
        "test=false",
        f"model.weights={first['best_checkpoint']}",
        "model.freeze=features",
    ]
    second = train(compose_train(*TINY, *tuned, output_dir=tmp_path / "second"))
    resumed = [*tuned[1:], "trainer.max_epochs=2", f"ckpt_path={second['best_checkpoint']}"]
    third = train(compose_train(*TINY, *resumed, output_dir=tmp_path / "third"))
    assert third["epochs"] == 2 and third["global_step"] > second["global_step"]
    last = resolve_checkpoint(tmp_path / "third")  # its newest: after the resumed epoch
    assert torch.load(last, weights_only=True)["epoch"] == 1
    for path in (second["best_checkpoint"], last):
        state = torch.load(path, weights_only=True)["state_dict"]
        for key, value in trained.items():
            if key.startswith("features."):  # frozen: the loaded copy, saved bit for bit
                assert torch.equal(state[f"model.{key}"], value), key
            else:  # trained: moved by far more than rounding (about 1e-8 at these sizes;
                # a few AdamW steps at lr 2e-4 move some of a layer by 1e-4 or more)
                assert (state[f"model.{key}"] - value).abs().max() > 1e-6, key


@pytest.mark.parametrize(
    ("what", "trainable"),
    [
        ("none", {"features.0", "features.3", "features.6", "classifier.1", "classifier.4"}),
        ("features", {"classifier.1", "classifier.4"}),
        ("all_but_head", {"classifier.4"}),
    ],
)
def test_freeze_leaves_only_its_layers_trainable_and_the_optimizer_gets_only_those(what, trainable):
    module = AlexNetModule(
        model={"preset": "mini", "num_classes": 3}, freeze=what, schedule={"name": "cosine"}
    )
    layers = {
        name.rsplit(".", 1)[0] for name, p in module.model.named_parameters() if p.requires_grad
    }
    assert layers == trainable
    module.trainer = L.Trainer(
        max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    (optimizer,), _ = module.configure_optimizers()
    given = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert given == {id(p) for p in trainable_parameters(module.model)}
    # The choice is a saved hyperparameter: a module rebuilt from a checkpoint keeps it.
    rebuilt = AlexNetModule(**module.hparams)
    assert [p.requires_grad for p in rebuilt.model.parameters()] == [
        p.requires_grad for p in module.model.parameters()
    ]


def test_all_but_head_is_a_linear_probe_of_alexnets_fc8():
    model = create_model("alexnet", num_classes=10)
    freeze(model, "all_but_head")
    assert head_name(model) == "classifier.6"
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "classifier.6.weight",
        "classifier.6.bias",
    ]


def test_a_bad_freeze_lists_the_choices():
    with pytest.raises(InvalidValue) as err:
        freeze(create_model("mini"), "conv")
    assert str(err.value) == (
        f"model.freeze='conv' is not valid; choose one of: {', '.join(FREEZES)}"
    )
