"""decode=device's batched transforms give the loader's images: the same pixels where the
pipeline is deterministic, crops of the same patch and the paper's colour noise where it is not."""

import pytest
import torch
from torchvision import tv_tensors

from alexnet.data.batch_transforms import BatchTransform
from alexnet.data.transforms import (
    IMAGENET_STD,
    PCA_EIGVAL,
    PCA_EIGVEC,
    eval_transform,
    train_transform,
)

SIZE, RESIZE = 32, 37


def images(count: int = 6) -> list[torch.Tensor]:
    """uint8 (3, H, W) images of different sizes and aspect ratios, as decoding gives them."""
    generator = torch.Generator().manual_seed(0)
    shapes = [(48, 64), (64, 48), (40, 40), (90, 50), (37, 37), (120, 80)]
    return [
        torch.randint(0, 256, (3, *shapes[i % 6]), generator=generator, dtype=torch.uint8)
        for i in range(count)
    ]


@pytest.mark.parametrize("crop", ["center", "ten_crop"])
def test_evaluation_batches_equal_the_loaders_images(crop):
    loader = eval_transform(crop, SIZE, RESIZE)
    # tv_tensors.Image, as the loader's decoded images are (a plain tensor's ten crops would be
    # scaled to [0, 1] only for the first crop: v2 treats only the first plain tensor as image)
    expected = torch.stack([loader(tv_tensors.Image(image)) for image in images()])
    batched = BatchTransform(False, eval_crop=crop, image_size=SIZE, resize=RESIZE)(images())
    assert batched.shape == expected.shape
    torch.testing.assert_close(batched, expected, atol=1e-5, rtol=0)


def test_unaugmented_training_batches_equal_the_loaders_images():
    loader = train_transform("none", SIZE, RESIZE)
    expected = torch.stack([loader(tv_tensors.Image(image)) for image in images()])
    batched = BatchTransform(True, augment="none", image_size=SIZE, resize=RESIZE)(images())
    torch.testing.assert_close(batched, expected, atol=1e-5, rtol=0)


def test_paper_training_images_are_crops_of_the_central_patch_some_mirrored():
    batch = images(32)
    patches = BatchTransform(False, eval_crop="center", image_size=RESIZE, resize=RESIZE)(batch)
    torch.manual_seed(0)
    crops = BatchTransform(True, augment="paper", image_size=SIZE, resize=RESIZE, pca_sigma=0.0)(
        batch
    )
    assert crops.shape == (32, 3, SIZE, SIZE)
    mirrored = []
    for crop, patch in zip(crops, patches):
        found = [
            flip
            for y in range(RESIZE - SIZE + 1)
            for x in range(RESIZE - SIZE + 1)
            for flip in (False, True)
            if torch.allclose(
                (patch.flip(-1) if flip else patch)[:, y : y + SIZE, x : x + SIZE], crop, atol=1e-5
            )
        ]
        assert found, "a training image that is no crop of its central patch"
        mirrored.append(found[0])
    assert 0 < sum(mirrored) < len(mirrored)  # both, each with probability 1/2


def test_colour_noise_is_the_papers_per_image_shift_along_the_components():
    batch, sigma = images(6) * 64, 0.1
    transform = dict(augment="paper", image_size=SIZE, resize=RESIZE)
    torch.manual_seed(1)
    clean = BatchTransform(True, pca_sigma=0.0, **transform)(batch)
    torch.manual_seed(1)  # the same crops and flips, then the noise
    noisy = BatchTransform(True, pca_sigma=sigma, **transform)(batch)
    shift = (noisy - clean) * torch.tensor(IMAGENET_STD).view(3, 1, 1)  # back in [0, 1] units
    per_image = shift.mean((2, 3))  # (B, 3)
    torch.testing.assert_close(
        shift, per_image.view(-1, 3, 1, 1).expand_as(shift), atol=1e-5, rtol=0
    )  # one shift per image, the same over its pixels
    # shift = eigvec @ (alpha * eigval) with alpha ~ N(0, sigma): recover alpha
    alpha = per_image @ torch.tensor(PCA_EIGVEC) / torch.tensor(PCA_EIGVAL)
    assert alpha.std(0).sub(sigma).abs().max() < 0.3 * sigma  # 384 draws: std within ~9%
    assert alpha.mean(0).abs().max() < 0.3 * sigma
