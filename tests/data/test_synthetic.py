import math
import pickle

import numpy as np
import pytest
import torch

from alexnet import create_synthetic_dataset
from alexnet.data.synthetic import MAX_CLASSES, SyntheticImageNet, class_specs, stripe_angle
from alexnet.data.synthetic_hard import GRID, HUE_JITTER, HUE_STEP, MAIN_DRAWS, object_params
from tests.conftest import compose_train


def test_create_synthetic_dataset_returns_train_and_test():
    train, test = create_synthetic_dataset(
        num_classes=4, samples_per_class=10, image_size=64, seed=3
    )
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
    for difficulty, limit in MAX_CLASSES.items():
        with pytest.raises(ValueError, match=f"at most {limit} classes"):
            SyntheticImageNet(limit + 1, 1, difficulty=difficulty)


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

    sizes = dict(
        num_classes=3,
        image_size=32,
        train_per_class=5,
        val_per_class=2,
        test_per_class=2,
        num_workers=0,
    )
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


def _closed_under_flip(angles: set[float]) -> bool:
    """Every angle's mirror image pi - t is among `angles` (stripes: modulo pi, to 1e-9)."""

    def apart(a: float, b: float) -> float:
        gap = (a - b) % math.pi
        return min(gap, math.pi - gap)

    return all(min(apart(math.pi - a, b) for b in angles) < 1e-9 for a in angles)


def test_a_horizontal_flip_keeps_every_class_orientation():
    # A flip maps a stripe angle t to pi - t. Each class's angles (jitter aside: draw 0.5) must
    # be closed under it, or a flipped image shows another class's orientation.
    neutral = [0.5] * 14
    for spec in class_specs(MAX_CLASSES["easy"], seed=0):
        angles = {stripe_angle(spec, [*neutral, sign]) for sign in (0.1, 0.9)}
        assert _closed_under_flip(angles), spec
    for spec in class_specs(MAX_CLASSES["hard"], seed=0):
        draws = [0.5] * MAIN_DRAWS
        angles = set()
        for sign in (0.1, 0.9):
            draws[7] = sign
            angles.add(object_params(spec, draws)["stripe"])
        if spec.angle is not None:  # None: drawn over the whole half-turn, symmetric
            assert _closed_under_flip(angles), spec


def test_the_hard_classes_sit_on_a_grid_with_overlapping_nuisances():
    specs = class_specs(MAX_CLASSES["hard"], seed=0, difficulty="hard")
    shapes = GRID[0]
    for index, spec in enumerate(specs):  # the next shape, and the next hue: one attribute each
        if index % shapes < shapes - 1:
            other = specs[index + 1]
            assert other.shape != spec.shape and (other.hue, other.angle, other.frequency) == (
                spec.hue,
                spec.angle,
                spec.frequency,
            )
        if index + shapes < len(specs) and (index // shapes) % GRID[1] == 0:
            other = specs[index + shapes]
            assert other.hue != spec.hue and (other.shape, other.angle, other.frequency) == (
                spec.shape,
                spec.angle,
                spec.frequency,
            )
    # Neighbouring hue levels overlap: some hue values belong to either class.
    assert 2 * HUE_JITTER > HUE_STEP
    low = [object_params(specs[0], [0.5] * 9 + [u, 0.5, 0.5])["hue"] for u in (0.0, 1.0)]
    high = [object_params(specs[shapes], [0.5] * 9 + [u, 0.5, 0.5])["hue"] for u in (0.0, 1.0)]
    assert high[0] < low[1]
    # With 10 classes, frequency and orientation are nuisances; shape and hue the class.
    ten = class_specs(10, seed=0, difficulty="hard")
    assert all(s.angle is None and s.frequency is None for s in ten)
    assert len({(s.shape, s.hue) for s in ten}) == 10


def test_the_hard_task_is_deterministic_and_its_mask_follows_the_object():
    a = SyntheticImageNet(10, 4, 48, seed=1, difficulty="hard", transform=lambda image: image)
    b = SyntheticImageNet(10, 4, 48, seed=1, difficulty="hard", transform=lambda image: image)
    assert a.version == "hard-v1" and a.specs == b.specs
    assert torch.equal(a[13][0], b[13][0])  # exact: the same code and draws in one process
    easy = SyntheticImageNet(10, 4, 48, seed=1, transform=lambda image: image)
    assert (a[13][0] - easy[13][0]).abs().max() > 0.1
    for index in range(8):
        mask = a.object_mask(index)
        assert 0 < mask.float().mean() < 0.5  # an object, smaller than the scene


def test_every_augmentation_is_scored_on_the_same_validation_images():
    # An ablation's arms differ in their training pipeline only: the validation and test
    # images are the same for each; the un-augmented training images the probe scores are the
    # images each arm trains on, un-augmented (for crops of a wider scene: its centre crop).
    from alexnet.data import AlexNetDataModule

    sizes = dict(
        num_classes=3,
        image_size=32,
        train_per_class=4,
        val_per_class=2,
        test_per_class=2,
        num_workers=0,
    )
    modules = [AlexNetDataModule(**sizes, augment=augment) for augment in ("none", "paper")]
    for module in modules:
        module.setup()
    plain, augmented = modules
    for split in ("val", "test"):
        for index in range(6):  # exact: the same rendering and normalization on both sides
            assert torch.equal(plain.datasets[split][index][0], augmented.datasets[split][index][0])
    drawn = augmented.datasets["train"]  # the wider scenes the augmented arm is cropped from
    raw = SyntheticImageNet(
        3, 4, drawn.image_size, seed=0, split="train", transform=lambda x: x, field=drawn.field
    )[5][0]
    margin = (drawn.image_size - 32) // 2
    centre = raw[:, margin : margin + 32, margin : margin + 32]
    mean, std = (torch.tensor(s).view(3, 1, 1) for s in augmented.stats)
    torch.testing.assert_close(
        augmented.unaugmented_train_split()[5][0], (centre - mean) / std, atol=1e-6, rtol=0
    )
    assert plain.unaugmented_train_split()[5][0].shape == centre.shape


def test_the_hard_task_is_a_data_option_and_its_version_is_recorded(tmp_path):
    from alexnet.data import AlexNetDataModule
    from alexnet.errors import InvalidValue

    module = AlexNetDataModule(
        num_classes=10,
        image_size=32,
        train_per_class=2,
        val_per_class=1,
        test_per_class=1,
        num_workers=0,
        difficulty="hard",
    )
    module.setup()
    assert module.data_version == "hard-v1" and module.datasets["val"].difficulty == "hard"
    assert AlexNetDataModule(image_size=32).data_version == "easy-v2"
    with pytest.raises(InvalidValue, match="data.difficulty.*medium.*easy, hard"):
        AlexNetDataModule(image_size=32, difficulty="medium")
    with pytest.raises(InvalidValue, match="data.difficulty.*data=synthetic"):
        AlexNetDataModule(source="imagefolder", root=str(tmp_path), difficulty="hard")
    # The calibrated tasks are the hard drawing at their sizes; other sizes name none.
    assert "task" not in module.run_record()
    for config, task in (("synthetic_hard", "hard-v2"), ("synthetic_hard_v1", "hard-v1")):
        data = compose_train(f"data={config}").data
        sized = AlexNetDataModule(
            image_size=32,
            difficulty="hard",
            train_per_class=data.train_per_class,
            val_per_class=data.val_per_class,
        )
        assert sized.run_record() == {"data_version": "hard-v1", "task": task}


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_a_batch_drawn_at_once_is_the_loaders_images(difficulty):
    # 20 classes: several shapes, distractors and occluders in one batch; any order, repeats.
    data = SyntheticImageNet(20, 6, 48, seed=5, split="val", difficulty=difficulty)
    indices = [7, 0, 119, 33, 33, 64, 2, 90, 11, 45]
    batch = data.render_batch(torch.tensor(indices), torch.device("cpu"))
    # The same operations on other shapes: elementwise kernels may take their scalar tails at
    # other elements (a last-bit difference in sin/exp on a vectorized CPU), so not bit for bit.
    torch.testing.assert_close(batch, torch.stack([data[i][0] for i in indices]), atol=1e-5, rtol=0)


class CountCalls(torch.overrides.TorchFunctionMode):
    """Counts torch function calls (each a kernel launch, or more, on a GPU)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(("difficulty", "fields"), [("easy", 1), ("hard", 3)])
def test_a_batch_is_drawn_in_one_pass_but_for_each_images_random_fields(difficulty, fields):
    # Per image only its own noise draws (and their stacking); every drawing step runs once a
    # batch. One class; from 16 images on, the hard task's batches hold every distractor shape.
    data = SyntheticImageNet(1, 48, 32, difficulty=difficulty)
    data.render_batch([0], torch.device("cpu"))  # the coordinate grid, once
    calls = {}
    for size in (16, 28):
        with CountCalls() as counter:
            data.render_batch(list(range(size)), torch.device("cpu"))
        calls[size] = counter.calls
    assert calls[28] - calls[16] == 12 * fields, calls
