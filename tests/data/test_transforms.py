"""The paper's crops come from the central 256x256 patch of the image resized to 256."""

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD, eval_transform, train_transform


def wide_image() -> Image.Image:
    """256 high, 512 wide: red outside the central 256x256 patch, black inside it."""
    pixels = np.zeros((256, 512, 3), dtype=np.uint8)
    pixels[:, :128, 0] = pixels[:, 384:, 0] = 255
    return Image.fromarray(pixels)


def red(images: torch.Tensor) -> torch.Tensor:
    """The red channel back in [0, 1]."""
    return images[..., 0, :, :] * IMAGENET_STD[0] + IMAGENET_MEAN[0]


def test_paper_training_crops_stay_inside_the_central_patch():
    transform = train_transform("paper", 224, 256, pca_sigma=0.0)
    torch.manual_seed(0)
    crops = torch.stack([transform(wide_image()) for _ in range(50)])
    assert crops.shape == (50, 3, 224, 224)
    assert red(crops).abs().max() < 1e-4  # no pixel from outside the central 256 patch


def test_paper_ten_crops_come_from_the_central_patch():
    crops = eval_transform("ten_crop", 224, 256)(wide_image())
    assert crops.shape == (10, 3, 224, 224)
    assert red(crops).abs().max() < 1e-4


@pytest.mark.parametrize("augment", ["paper", "torchvision", "none"])
def test_training_pipelines_give_the_crop_size(augment):
    image = Image.fromarray(np.full((300, 400, 3), 128, dtype=np.uint8))
    assert train_transform(augment, 96)(image).shape == (3, 96, 96)
