import dataclasses
import json
import os
import time

import pytest
import torch

from alexnet.data import AlexNetDataModule, DataError
from alexnet.data.encoded import EncodedBatch, pack_encoded
from alexnet.data.transforms import FancyPCA, eval_transform, train_transform
from tests.conftest import make_image_folder, run_script_in_root, write_image


def first_batch(loader):
    return next(iter(loader))


@pytest.mark.parametrize("augment", ["paper", "torchvision", "none"])
def test_imagefolder_layout_with_odd_images(image_folder, augment):
    dm = AlexNetDataModule(
        source="imagefolder",
        root=str(image_folder),
        image_size=64,
        augment=augment,
        batch_size=4,
        num_workers=0,
    )
    assert dm.num_classes == 3
    dm.setup("fit")
    assert dm.classes == ["class0", "class1", "class2"]
    assert (len(dm.datasets["train"]), len(dm.datasets["val"])) == (12, 6)
    for loader in (dm.train_dataloader(), dm.val_dataloader()):
        for images, labels in loader:  # every image, grayscale, palette, RGBA, CMYK and tiny
            assert images.shape[1:] == (3, 64, 64) and images.dtype == torch.float32
            assert labels.max() < 3


def test_ten_crop_evaluation_batches(image_folder):
    dm = AlexNetDataModule(
        source="imagefolder",
        root=str(image_folder),
        image_size=64,
        resize_size=72,
        eval_crop="ten_crop",
        batch_size=2,
        num_workers=0,
    )
    dm.setup("test")
    images, _ = first_batch(dm.test_dataloader())
    assert images.shape == (2, 10, 3, 64, 64)
    # The last five crops come from the mirrored image: crop 9 is the mirrored centre crop 4.
    # The same pixels normalized by the same elementwise ops: equal to rounding at most.
    torch.testing.assert_close(images[0, 9], images[0, 4].flip(-1), atol=1e-6, rtol=0)
    assert (images[0, 0] - images[0, 4]).abs().max() > 0.1  # another crop: clearly different


def test_root_without_train_val_is_split_per_class(tmp_path):
    root = make_image_folder(tmp_path / "flat", classes=3, per_class=8, split=False)
    dm = AlexNetDataModule(
        source="imagefolder", root=str(root), image_size=32, num_workers=0, val_fraction=0.2
    )
    dm.setup("fit")
    train, val = dm.datasets["train"], dm.datasets["val"]
    assert len(train) + len(val) == 30 and len(val) == 6
    assert set(train.indices).isdisjoint(val.indices)
    targets = train.dataset.targets
    assert sorted({targets[i] for i in val.indices}) == [0, 1, 2]
    assert val.dataset.transform is not train.dataset.transform


def test_missing_root_names_the_path(tmp_path):
    dm = AlexNetDataModule(source="imagefolder", root=str(tmp_path / "nowhere"), num_workers=0)
    with pytest.raises(DataError, match=f"data root {tmp_path / 'nowhere'} does not exist"):
        _ = dm.num_classes


def test_root_without_class_folders_names_the_path(tmp_path):
    (tmp_path / "empty").mkdir()
    dm = AlexNetDataModule(source="imagefolder", root=str(tmp_path / "empty"), num_workers=0)
    with pytest.raises(DataError, match="has no class folders"):
        dm.setup("fit")


def test_empty_class_folder_names_the_folder(image_folder):
    (image_folder / "train" / "class9").mkdir()
    dm = AlexNetDataModule(source="imagefolder", root=str(image_folder), num_workers=0)
    with pytest.raises(
        DataError, match=f"class folder {image_folder / 'train' / 'class9'} has no images"
    ):
        _ = dm.num_classes


def test_class_count_must_match_the_data(image_folder):
    dm = AlexNetDataModule(
        source="imagefolder", root=str(image_folder), num_classes=5, num_workers=0
    )
    with pytest.raises(ValueError, match="data.num_classes=5 is not valid; the data at .* has 3"):
        _ = dm.num_classes


def test_imagefolder_needs_a_root():
    with pytest.raises(ValueError, match="data.root=None is not valid"):
        AlexNetDataModule(source="imagefolder")


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"augment": "heavy"}, "data.augment"),
        ({"eval_crop": "five"}, "data.eval_crop"),
        ({"source": "cifar"}, "data.source"),
        ({"batch_size": 0}, "data.batch_size"),
    ],
)
def test_bad_data_options_name_the_key(kwargs, key):
    with pytest.raises(ValueError, match=f"{key}="):
        AlexNetDataModule(**kwargs)


def test_fancy_pca_shifts_each_image_by_one_rgb_offset():
    torch.manual_seed(0)
    image = torch.rand(3, 8, 8)
    shifted = FancyPCA(0.1)(image)
    offset = (shifted - image).flatten(1)
    # (image + shift) - image is the shift up to the rounding of pixels in [0, 1] (~1e-7); the
    # shifts are ~3e-3 here, so a 1e-6 tolerance still tells one offset from three.
    torch.testing.assert_close(offset, offset[:, :1].expand_as(offset), atol=1e-6, rtol=0)
    assert offset.abs().max() > 1e-3
    assert torch.equal(FancyPCA(0.0)(image), image)  # exact: sigma 0 returns the image as is


def test_small_images_are_resized_up_for_the_crop():
    from PIL import Image

    tiny = Image.new("RGB", (10, 7))
    assert train_transform("paper", 224)(tiny).shape == (3, 224, 224)
    assert eval_transform("center", 224)(tiny).shape == (3, 224, 224)


def test_synthetic_datamodule_with_augmentation_and_ten_crop():
    dm = AlexNetDataModule(
        num_classes=3,
        image_size=48,
        augment="paper",
        eval_crop="ten_crop",
        train_per_class=2,
        val_per_class=1,
        test_per_class=1,
        batch_size=3,
        num_workers=0,
    )
    dm.setup("fit")
    train_images, _ = first_batch(dm.train_dataloader())
    val_images, _ = first_batch(dm.val_dataloader())
    assert train_images.shape == (3, 3, 48, 48) and val_images.shape == (3, 10, 3, 48, 48)


def test_jpegs_decoded_on_the_device_match_the_loaders_images(image_folder):
    common = {
        "source": "imagefolder",
        "root": str(image_folder),
        "image_size": 64,
        "num_workers": 0,
        "batch_size": 6,
    }
    loader = AlexNetDataModule(**common)
    device = AlexNetDataModule(**common, decode="device")
    for dm in (loader, device):
        dm.setup("fit")
    reference, labels = next(iter(loader.val_dataloader()))
    encoded, device_labels = next(iter(device.val_dataloader()))
    assert isinstance(encoded, EncodedBatch)  # one buffer: raw JPEGs and worker-decoded images
    assert any(item.dim() == 1 for item in encoded.items())
    images, device_labels = device.on_before_batch_transfer((encoded, device_labels), 0)
    assert images.shape == reference.shape and torch.equal(device_labels, labels)
    # Two JPEG decoders and PIL vs tensor resizing: close, not bit-identical.
    assert (images - reference).abs().mean() < 0.1


def test_a_truncated_jpeg_decoded_on_the_device_follows_the_policy(image_folder):
    good = next((image_folder / "val" / "class0").glob("*.jpg"))
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 3])
    common = {
        "source": "imagefolder",
        "root": str(image_folder),
        "image_size": 64,
        "num_workers": 0,
        "batch_size": 6,
        "decode": "device",
    }
    dm = AlexNetDataModule(**common)
    dm.setup("fit")
    batch = next(iter(dm.val_dataloader()))
    images, _ = dm.on_before_batch_transfer(batch, 0)
    assert images.shape[0] == 6 and torch.isfinite(images).all()
    strict = AlexNetDataModule(**common | {"bad_files": "fail"})
    strict.setup("fit")
    with pytest.raises(DataError, match="undecodable JPEG"):
        strict.on_before_batch_transfer(next(iter(strict.val_dataloader())), 0)


def test_encoded_images_pack_into_one_buffer_and_back():
    jpeg = torch.arange(7, dtype=torch.uint8)
    image = torch.randint(0, 255, (3, 4, 5), dtype=torch.uint8)
    packed = pack_encoded([jpeg, image, jpeg[:2]])
    # Three tensors cross from a worker, whatever the batch size (one descriptor each).
    assert {f.name for f in dataclasses.fields(packed)} == {"data", "offsets", "shapes"}
    back = packed.items()
    assert len(packed) == 3 and [b.shape for b in back] == [(7,), (3, 4, 5), (2,)]
    assert all(torch.equal(a, b) for a, b in zip(back, [jpeg, image, jpeg[:2]]))


@pytest.mark.slow
def test_decoding_on_the_device_trains_with_workers_callbacks_and_tensorboard(tmp_path):
    # 3 classes x 12 JPEGs with the default workers, picture callbacks and TensorBoard: a batch
    # of 12 encoded files crossed from a worker as 12 shared tensors and hung the run.
    from tests.callbacks.test_tensorboard import read_events

    for split, count in (("train", 12), ("val", 4)):
        for c in range(3):
            for i in range(count):
                write_image(
                    tmp_path / "jpegs" / split / f"c{c}" / f"{i}.jpg",
                    "RGB",
                    (96, 80),
                    seed=100 * c + i,
                )
    done = run_script_in_root(
        "train.py",
        "model=mini",
        "trainer=cpu",
        "data=imagefolder",
        f"data.root={tmp_path / 'jpegs'}",
        "data.decode=device",
        "data.image_size=64",
        "data.batch_size=12",
        "trainer.max_epochs=1",
        "test=false",
        f"hydra.run.dir={tmp_path / 'run'}",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "completed" and record["global_step"] == 3
    tags = {tag for events in read_events(tmp_path / "run") for tag in events.Tags()["images"]}
    assert "filters/conv1" in tags and "feature_maps/inputs" in tags


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO (POSIX)")
def test_a_hung_loader_worker_ends_the_run_with_one_line(tmp_path):
    # A file whose read never returns (a FIFO with no writer, as a stalled network mount):
    # the worker hangs; the run must end within the loader timeout, not wait forever.
    root = make_image_folder(tmp_path / "images", per_class=4)
    stuck = next((root / "train" / "class0").glob("*.jpg"))
    stuck.unlink()
    os.mkfifo(stuck)
    started = time.monotonic()
    done = run_script_in_root(
        "train.py",
        "model=mini",
        "trainer=cpu",
        "data=imagefolder",
        f"data.root={root}",
        "data.augment=none",
        "data.image_size=64",
        "data.batch_size=4",
        "data.num_workers=1",
        "data.loader_timeout_s=3",
        "logger=none",
        "callbacks=none",
        "test=false",
        f"hydra.run.dir={tmp_path / 'run'}",
        timeout=120,
    )
    assert done.returncode == 1 and time.monotonic() - started < 90
    assert done.stderr.strip().splitlines()[-1] == (
        "error: no batch from the data loader's workers in data.loader_timeout_s=3.0 s: a "
        "worker failed (its error is above) or hung"
    )
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed" and record["error"].startswith("DataError")
