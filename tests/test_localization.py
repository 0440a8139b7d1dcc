"""The localization measures on maps whose answer is known, and the synthetic object masks."""

import pytest
import torch

from alexnet.data.synthetic import SyntheticImageNet
from alexnet.localization import centre_prior, mass_inside, pointing_game


def test_pointing_game_and_mass_inside_on_known_maps():
    masks = torch.zeros(2, 4, 4, dtype=torch.bool)
    masks[:, :2, :2] = True  # the object: the top-left quarter
    maps = torch.zeros(2, 4, 4)
    maps[0, 0, 1] = 3.0  # peaks inside, all its mass inside
    maps[1, 3, 3], maps[1, 0, 0] = 2.0, 1.0  # peaks outside, a third of its mass inside
    assert pointing_game(maps, masks) == 0.5  # a count over a count, 1 of 2: exact
    # float32 shares (1/3 is rounded) against Python's double: a few float32 ulps apart
    assert mass_inside(maps, masks) == pytest.approx((1.0 + 1 / 3) / 2, abs=1e-6)
    # Exact: negative evidence is clamped to exact zeros, and sums of zeros are 0 in any order.
    assert mass_inside(-maps, masks) == 0.0  # negative evidence is no mass


def test_centre_prior_peaks_at_the_centre():
    prior = centre_prior(3, 9)
    assert prior.shape == (3, 9, 9) and prior[0].argmax() == 4 * 9 + 4


def test_object_masks_cover_the_drawn_object():
    raw = SyntheticImageNet(4, 3, 64, seed=0, split="val", transform=lambda image: image)
    for index in range(len(raw)):
        mask = raw.object_mask(index)
        image = raw[index][0]
        assert mask.shape == (64, 64) and 0.02 < mask.float().mean() < 0.8
        # The background is one smooth colour: its pixels lie near their median colour, the
        # object's saturated stripes far from it. A mask of the wrong place fails both.
        background = image[:, ~mask].median(dim=1).values.view(3, 1)
        distance = (image.flatten(1) - background).norm(dim=0).view(64, 64)
        assert distance[mask].mean() > 1.5 * distance[~mask].mean()
        # a function of the index: the same computation twice in this process, bit-identical
        assert torch.equal(mask, raw.object_mask(index))
