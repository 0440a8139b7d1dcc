"""What the claims' arms need of the data: arms that differ in one knob draw the same random
numbers for everything else, the colour noise's strength is relative to the data's own colour
spread where asked, and a crop of a larger render shows objects at the scale of the plain one."""

import math

import numpy as np
import pytest
import torch

from alexnet.data import AlexNetDataModule
from alexnet.data.colour_pca import PAPER_SHIFT_PER_SPREAD, ColourBasis
from alexnet.data.synthetic import SyntheticImageNet
from alexnet.data.synthetic_hard import object_mask
from alexnet.data.transforms import PCA_EIGVAL, PCA_EIGVEC, train_transform

SIZES = dict(
    num_classes=3,
    image_size=32,
    train_per_class=4,
    val_per_class=2,
    test_per_class=2,
    num_workers=0,
)


def test_an_arm_without_colour_noise_keeps_the_crops_and_flips_paired():
    # The same image stream through the paper's pipeline with and without colour noise: each
    # output differs by a constant colour per image (the noise), never by a crop or a flip.
    # Before the fix, sigma 0 drew nothing, so the second image's crop already differed.
    torch.manual_seed(0)
    images = [torch.rand(3, 40, 40) for _ in range(6)]
    outputs = {}
    for sigma in (0.0, 0.1):
        pipeline = train_transform("paper", 32, 40, pca_sigma=sigma, from_tensor=True)
        torch.manual_seed(1)
        outputs[sigma] = [pipeline(image) for image in images]
    for plain, noisy in zip(outputs[0.0], outputs[0.1]):
        difference = (noisy - plain).flatten(1)
        assert difference.std(1).max() < 1e-5  # constant over the pixels: a colour shift only
        assert difference.abs().max() > 1e-4  # and the noise is there


def test_the_relative_strength_matches_the_papers_shift_against_the_colour_spread():
    imagenet = ColourBasis(PCA_EIGVAL, PCA_EIGVEC, 0)
    assert imagenet.relative_factor() == pytest.approx(1.0, rel=1e-12)
    assert PAPER_SHIFT_PER_SPREAD == pytest.approx(0.445, abs=1e-3)
    dim = ColourBasis((0.02, 0.001, 0.0005), PCA_EIGVEC, 0)  # a low-contrast dataset
    factor = dim.relative_factor()
    assert dim.shift_rms(0.1, factor) / dim.spread() == pytest.approx(0.1 * 0.445, abs=1e-4)
    module = AlexNetDataModule(**SIZES, augment="paper", pca_relative=True)
    module.setup()
    record = module.run_record()["colour_basis"]
    assert record["relative"] and record["shift_per_spread"] == pytest.approx(0.0445, abs=1e-4)
    fancy = module._transforms[0].transforms[-2]  # FancyPCA, before the normalization
    basis = module.colour_basis
    torch.testing.assert_close(
        fancy.eigval, torch.tensor(basis.eigval) * basis.relative_factor(), rtol=1e-6, atol=0
    )


def test_a_wider_render_shows_objects_at_the_plain_renders_scale():
    # Drawn at 73 px for 64-px crops, the object covers as many pixels as in the 64-px render
    # (the old code drew the same scene larger: 1.30x the pixels).
    plain = SyntheticImageNet(4, 3, 64, seed=0, split="train", difficulty="hard")
    wide = SyntheticImageNet(4, 3, 73, seed=0, split="train", difficulty="hard", field=73 / 64)
    soft = []
    for index in range(8):
        ratio = wide.object_mask(index).sum().item() / plain.object_mask(index).sum().item()
        assert ratio == pytest.approx(1.0, abs=0.04), index
        rng = [np.random.default_rng([0, 0, index]) for _ in range(2)]
        edges = [
            object_mask(data.specs[index % 4], r, data._coordinates())
            for data, r in zip((wide, plain), rng)
        ]
        soft.append([((e > 0.05) & (e < 0.95)).sum().item() for e in edges])
    # Edges as soft per pixel (a sharpness per scene unit would make them 14% sharper).
    assert sum(w for w, _ in soft) / sum(p for _, p in soft) == pytest.approx(1.0, abs=0.05)
    module = AlexNetDataModule(**{**SIZES, "image_size": 64}, augment="paper")
    module.setup()
    assert module.datasets["train"].field == pytest.approx(module.resize_size / 64)
    assert module.datasets["val"].field == 1.0


def test_the_shift_probe_draws_the_same_casts_for_every_arm():
    from alexnet.callbacks.colour_shift_probe import colour_shifts

    eigval, eigvec = torch.tensor(PCA_EIGVAL), torch.tensor(PCA_EIGVEC)
    first = colour_shifts(4000, eigval, eigvec, 0.3)
    assert torch.equal(first, colour_shifts(4000, eigval, eigvec, 0.3))
    rms = first.pow(2).sum(1).mean().sqrt().item()
    assert rms == pytest.approx(0.3 * math.sqrt(sum(PCA_EIGVAL)), rel=0.05)
