"""The localization measures on maps whose answer is known, and the synthetic object masks."""

import pytest
import torch

from alexnet.data.synthetic import SyntheticImageNet
from alexnet.interpret.localization import (
    centre_prior,
    contrast_saliency,
    flat_maps,
    mass_inside,
    oracle_maps,
    pointing_game,
)


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


def test_a_flat_map_points_nowhere_even_when_the_object_covers_pixel_0_0():
    masks = torch.zeros(3, 4, 4, dtype=torch.bool)
    masks[:, :2, :2] = True  # the object covers the top-left corner, where argmax of a flat
    maps = torch.zeros(3, 4, 4)  # map lands
    maps[1] = 0.5  # flat, not zero: no peak either
    maps[2, 1, 1] = 1.0  # a real peak inside
    assert flat_maps(maps).tolist() == [True, True, False]
    assert pointing_game(maps, masks) == 1 / 3  # only the map with a peak scores
    assert mass_inside(torch.zeros(1, 4, 4), masks[:1]) == 0.0


def test_the_oracle_peaks_inside_every_object_and_contrast_finds_texture():
    masks = torch.zeros(2, 32, 32, dtype=torch.bool)
    masks[0, 8:16, 16:24] = True  # one cell of the 4x4 grid
    masks[1, 14:26, 6:14] = True  # across four cells
    oracle = oracle_maps(masks, grid=4)  # a coarse grid, as conv3's 7x7 at 64 px
    assert oracle.shape == (2, 32, 32) and pointing_game(oracle, masks) == 1.0
    assert mass_inside(oracle, masks) > masks.float().mean()  # more than a uniform map
    images = torch.zeros(2, 3, 32, 32)
    images[:, :, masks[0]] = torch.rand(int(masks[0].sum())) * 2 - 1  # texture on a flat field
    assert pointing_game(contrast_saliency(images), masks[[0, 0]]) == 1.0


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
