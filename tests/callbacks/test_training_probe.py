"""The training probe: training error of the current weights in eval mode on un-augmented
training images, and dead units per activation layer."""

import json

import pytest
import torch

from alexnet import AlexNetDataModule, create_model
from alexnet.callbacks.training_probe import dead_fractions, lrn_spread
from alexnet.data.samples import unaugmented_train_samples
from alexnet.run.api import train
from alexnet.run.trained import load_checkpoint
from tests.conftest import TINY, compose_train

PROBE = [
    "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
    "+callbacks.training_probe.every_n_steps=2",
    "+callbacks.training_probe.images=12",
]


def test_units_that_no_image_moves_are_dead_for_relu_and_for_saturated_tanh():
    images = torch.randn(8, 3, 32, 32)
    for activation, bias in (("relu", -1e3), ("tanh", 1e3)):
        torch.manual_seed(0)
        model = create_model("four_layer", num_classes=10, activation=activation)
        healthy, _ = dead_fractions(model, images)
        assert max(healthy.values()) < 0.5, (activation, healthy)
        with torch.no_grad():
            model.features[0].bias.fill_(bias)  # conv1: zero (ReLU) or +1 (tanh) everywhere
        dead, logits = dead_fractions(model, images)
        # act1 constant, so every later layer sees a constant input: all of them dead.
        assert dead == {"act1": 1.0, "act2": 1.0, "act3": 1.0}, activation
        torch.testing.assert_close(logits, logits[:1].expand_as(logits), atol=1e-5, rtol=0)
        assert model.training  # the mode it had


def test_unaugmented_training_images_go_through_the_validation_pipeline():
    dm = AlexNetDataModule(
        num_classes=3,
        image_size=64,
        train_per_class=4,
        val_per_class=2,
        batch_size=4,
        num_workers=0,
        augment="paper",
    )
    dm.setup("fit")
    first, labels = unaugmented_train_samples(dm, 6)
    again, _ = unaugmented_train_samples(dm, 6)
    assert torch.equal(first, again)  # no random augmentation: the same computation twice
    assert first.shape == (6, *dm.datasets["val"][0][0].shape)
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]  # spread over the classes
    augmented = torch.stack([dm.datasets["train"][0][0] for _ in range(2)])
    assert not torch.equal(augmented[0], augmented[1])  # the training pipeline is random


def test_the_probe_records_eval_mode_error_of_the_final_weights(tmp_path):
    out = tmp_path / "run"
    cfg = compose_train(
        *TINY,
        "trainer.max_epochs=2",
        "data.augment=paper",
        "logger=none",
        "test=false",
        *PROBE,
        output_dir=out,
    )
    record = train(cfg)
    probe = json.loads((out / "metrics.json").read_text())["probe"]
    steps = [entry["step"] for entry in probe]
    assert steps == list(range(0, record["global_step"] + 1, 2))  # before training, every 2
    assert set(probe[0]["dead"]) == {"act1", "act2", "act3", "act4"}  # the mini preset's
    _, module, dm = load_checkpoint(str(out / "checkpoints" / "last.ckpt"))  # final weights
    dm.setup("fit")
    images, labels = unaugmented_train_samples(dm, 12)
    module.eval()
    with torch.no_grad():
        error = (module(images).argmax(1) != labels).float().mean().item()
    # 12 images: errors are k/12; float32 kernels may differ, predictions rarely.
    assert probe[-1]["train_error"] == pytest.approx(error, abs=1e-6)


def test_the_probe_can_end_the_fit_at_a_target_error(tmp_path):
    # Any error is <= 1: the fit ends at the first probe after a step, step 2 of 12. On the
    # hard synthetic task, whose version the record names.
    record = train(
        compose_train(
            *TINY,
            "trainer.max_epochs=4",
            "logger=none",
            "callbacks=none",
            "test=false",
            *PROBE,
            "+callbacks.training_probe.stop_at_error=1",
            "data.difficulty=hard",
            output_dir=tmp_path / "run",
        )
    )
    assert record["global_step"] == 2 and [p["step"] for p in record["probe"]] == [0, 2]
    assert record["data_version"] == "hard-v1"


def test_the_probe_scores_the_final_weights_off_its_schedule(tmp_path):
    # 12 steps, a probe every 5: before training, at steps 5 and 10, and at the end.
    record = train(
        compose_train(
            *TINY,
            "logger=none",
            "callbacks=none",
            "test=false",
            *PROBE,
            "callbacks.training_probe.every_n_steps=5",
            output_dir=tmp_path / "run",
        )
    )
    assert (
        [p["step"] for p in record["probe"]] == [0, 5, 10, 12] == [0, 5, 10, record["global_step"]]
    )


def test_lrn_at_the_papers_constants_is_a_constant_rescale_on_unit_activations():
    torch.manual_seed(0)
    model = create_model("mini", num_classes=10, lrn=True)
    images = torch.randn(16, 3, 64, 64)
    spreads = lrn_spread(model, images)
    assert (
        set(spreads)
        == {name for name, m in model.named_modules() if isinstance(m, torch.nn.LocalResponseNorm)}
        and len(spreads) == 2
    )
    # alpha / n * sum(a^2) ~ 1e-5 against k = 2: the ratio is 2^-0.75 everywhere (to 1e-5).
    assert max(spreads.values()) < 1e-4
    # Where sum(a^2) is comparable to k / alpha, it normalizes: the ratio varies.
    assert lrn_spread(model, 1000 * images)["features.1.1"] > 0.1
    assert lrn_spread(create_model("mini", num_classes=10), images) == {}  # no LRN, nothing


def test_lrn_scale_computes_the_papers_lrn_on_standardized_inputs_up_to_a_constant():
    # LRN at lrn_scale s on units a is s^-1 times the paper's LRN on s * a (alpha * s^2).
    from alexnet.models.blocks import LRN_ALPHA, LRN_BETA, LRN_K, LRN_SIZE, PAPER_LRN_SCALE

    torch.manual_seed(0)
    units = torch.rand(4, 16, 8, 8)
    paper = torch.nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K)
    scaled = create_model("mini", num_classes=10, lrn=True, lrn_scale=PAPER_LRN_SCALE).features[1][
        1
    ]
    assert scaled.alpha == pytest.approx(LRN_ALPHA * PAPER_LRN_SCALE**2)
    torch.testing.assert_close(
        scaled(units), paper(PAPER_LRN_SCALE * units) / PAPER_LRN_SCALE, rtol=1e-5, atol=1e-7
    )
    # On the ablation's images its ratio varies (lrn_scale=1: a constant, to 1e-4, above).
    images = torch.randn(16, 3, 64, 64)
    model = create_model("mini", num_classes=10, lrn=True, lrn_scale=PAPER_LRN_SCALE)
    assert max(lrn_spread(model, images).values()) > 1e-3
