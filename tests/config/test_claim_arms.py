"""The claims' control arms do what they say: LRN's gain-matched control multiplies by LRN's
constant gain and normalizes nothing; the placebo arm keeps the images and the init and moves
only what is drawn after the model is built; the colour-shift probe scores the final model on
shifted validation images and writes it to the run record."""

import json

import pytest
import torch

from alexnet import create_model
from alexnet.errors import InvalidValue
from alexnet.models.blocks import LRN_BETA, LRN_K
from alexnet.run.api import train
from tests.conftest import TINY, compose_train

PROBES = [
    "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
    "+callbacks.training_probe.every_n_steps=100",
    "+callbacks.training_probe.images=12",
    "+callbacks.colour_shift._target_=alexnet.callbacks.colour_shift_probe.ColourShiftProbe",
]


def test_lrn_at_scale_zero_is_its_constant_gain_alone():
    torch.manual_seed(0)
    model = create_model("mini", num_classes=3, lrn=True, lrn_scale=0.0)
    lrn = next(m for m in model.modules() if isinstance(m, torch.nn.LocalResponseNorm))
    x = torch.randn(2, 8, 5, 5) * 30  # large activity: the paper's LRN would normalize it
    torch.testing.assert_close(lrn(x), x * LRN_K**-LRN_BETA, rtol=1e-6, atol=0)
    with pytest.raises(InvalidValue, match="lrn_scale"):
        create_model("mini", num_classes=3, lrn=True, lrn_scale=-1.0)


def run(tmp_path, name, *overrides):
    out = tmp_path / name
    train(
        compose_train(
            *TINY,
            "trainer.max_epochs=2",
            "logger=none",
            "callbacks=none",
            "test=false",
            *PROBES,
            *overrides,
            output_dir=out,
        )
    )
    return json.loads((out / "metrics.json").read_text())


def test_the_placebo_moves_the_order_and_dropout_draws_but_not_the_images_or_init(tmp_path):
    reference = run(tmp_path, "reference", "ablation=full")
    again = run(tmp_path, "again", "ablation=full")
    placebo = run(tmp_path, "placebo", "ablation=placebo")
    # Before training: the same init on the same images (the probe's step-0 entry).
    assert placebo["probe"][0] == reference["probe"][0]
    # After: the same config twice gives the same run; the placebo another.
    assert again["probe"][-1] == reference["probe"][-1]
    assert placebo["probe"][-1] != reference["probe"][-1]
    shifted = reference["colour_shifted_val"]
    assert shifted["images"] == 6 and 0 <= shifted["acc1"] <= 1 and shifted["sigma"] == 0.3
    assert shifted["shift_rms"] == pytest.approx(0.3 * shifted["colour_spread"], rel=0.8)
    assert again["colour_shifted_val"] == shifted
    # Every run records each layer's dead fraction of its final weights (the probe's own
    # measure, here on 12 images, since TINY has 12 training images).
    assert set(reference["dead"]) == {"act1", "act2", "act3", "act4"}
    assert all(0 <= v <= 1 for v in reference["dead"].values())
    # What each epoch's validation cost, for the experiments' budgets.
    assert [e["validation_s"] > 0 for e in reference["history"]] == [True, True]


def test_rng_offset_must_be_a_natural_number(tmp_path):
    with pytest.raises(InvalidValue, match="rng_offset"):
        train(compose_train(*TINY, "rng_offset=-1", "logger=none", output_dir=tmp_path / "r"))
