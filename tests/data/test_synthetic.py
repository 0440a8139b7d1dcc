import pickle

import numpy as np
import pytest
import torch

from alexnet import create_synthetic_dataset
from alexnet.data.synthetic import MAX_CLASSES, SyntheticImageNet, class_specs


def test_create_synthetic_dataset_returns_train_and_test():
    train, test = create_synthetic_dataset(num_classes=4, samples_per_class=10, image_size=64,
                                           seed=3)
    assert (len(train), len(test)) == (40, 8)
    image, label = train[5]
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32 and label == 1
    assert train.specs == test.specs
    assert (train[0][0] - test[0][0]).abs().max() > 0.1  # another image, not a near-copy


def test_images_are_deterministic_per_seed_and_index():
    a = SyntheticImageNet(5, 10, 48, seed=1)
    b = SyntheticImageNet(5, 10, 48, seed=1)
    # exact: the same drawing code on the same seed and index, twice in this process
    assert torch.equal(a[7][0], b[7][0]) and torch.equal(a[7][0], a[7][0])

    def far(x: torch.Tensor, y: torch.Tensor) -> bool:  # other images, not rounding apart
        return bool((x - y).abs().max() > 0.1)

    assert far(a[7][0], a[2][0])
    assert far(a[7][0], SyntheticImageNet(5, 10, 48, seed=2)[7][0])
    assert far(a[7][0], SyntheticImageNet(5, 10, 48, seed=1, split="val")[7][0])


def test_imagenet_scale_in_constant_memory():
    data = SyntheticImageNet(1000, 1300, 224)
    assert len(data) == 1_300_000
    image, label = data[1_299_999]
    assert image.shape == (3, 224, 224) and label == 999
    assert len(pickle.dumps(data)) < 200_000  # class specs only, no images
    assert len({(s.shape, s.angle, s.frequency, s.hue) for s in data.specs}) == 1000
    with pytest.raises(IndexError):
        data[1_300_000]


def test_too_many_classes_is_refused():
    with pytest.raises(ValueError, match=f"at most {MAX_CLASSES} classes"):
        SyntheticImageNet(MAX_CLASSES + 1, 1)


def test_mean_colour_does_not_give_the_class_away():
    # A nearest-centroid classifier on each image's mean RGB: near chance (0.1), far from 1.
    data = SyntheticImageNet(10, 60, 48, seed=0, transform=lambda image: image)
    means = np.stack([data[i][0].mean((1, 2)).numpy() for i in range(len(data))])
    labels = np.arange(len(data)) % 10
    train = np.arange(len(data)) < 400
    centroids = np.stack([means[train & (labels == c)].mean(0) for c in range(10)])
    predicted = np.argmin(((means[~train, None] - centroids[None]) ** 2).sum(-1), axis=1)
    accuracy = (predicted == labels[~train]).mean()
    assert accuracy < 0.3


def test_classes_differ_in_shape_orientation_texture_or_colour():
    specs = class_specs(50, seed=0)
    assert len(set(specs)) == 50
    assert len({s.shape for s in specs}) == 8 and len({s.hue for s in specs}) == 6
    assert class_specs(50, seed=0) == specs and class_specs(50, seed=1) != specs


def test_the_cache_serves_the_same_images_and_respects_its_limit():
    from alexnet.data import AlexNetDataModule

    sizes = dict(num_classes=3, image_size=32, train_per_class=5, val_per_class=2,
                 test_per_class=2, num_workers=0)
    cached = AlexNetDataModule(**sizes)
    cached.setup()
    drawn = AlexNetDataModule(**sizes, cache=False)
    drawn.setup()
    for split in ("train", "val", "test"):
        assert cached.datasets[split]._images is not None
        assert drawn.datasets[split]._images is None
        for index in range(len(drawn.datasets[split])):
            # exact: the cache was rendered by the same code in this process (num_workers=0)
            assert torch.equal(cached.datasets[split][index][0], drawn.datasets[split][index][0])
    too_big = AlexNetDataModule(**sizes, cache_limit_mib=0)  # 19 images of 12 KiB: over 0 MiB
    too_big.setup()
    assert all(data._images is None for data in too_big.datasets.values())
