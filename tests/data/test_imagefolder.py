import pytest
import torch

from alexnet.data import AlexNetDataModule, DataError
from alexnet.data.transforms import FancyPCA, eval_transform, train_transform
from tests.conftest import make_image_folder


def first_batch(loader):
    return next(iter(loader))


@pytest.mark.parametrize("augment", ["paper", "torchvision", "none"])
def test_imagefolder_layout_with_odd_images(image_folder, augment):
    dm = AlexNetDataModule(source="imagefolder", root=str(image_folder), image_size=64,
                           augment=augment, batch_size=4, num_workers=0)
    assert dm.num_classes == 3
    dm.setup("fit")
    assert dm.classes == ["class0", "class1", "class2"]
    assert (len(dm.datasets["train"]), len(dm.datasets["val"])) == (12, 6)
    for loader in (dm.train_dataloader(), dm.val_dataloader()):
        for images, labels in loader:  # every image, grayscale, palette, RGBA, CMYK and tiny
            assert images.shape[1:] == (3, 64, 64) and images.dtype == torch.float32
            assert labels.max() < 3


def test_ten_crop_evaluation_batches(image_folder):
    dm = AlexNetDataModule(source="imagefolder", root=str(image_folder), image_size=64,
                           resize_size=72, eval_crop="ten_crop", batch_size=2, num_workers=0)
    dm.setup("test")
    images, _ = first_batch(dm.test_dataloader())
    assert images.shape == (2, 10, 3, 64, 64)
    # The last five crops come from the mirrored image: crop 9 is the mirrored centre crop 4.
    # The same pixels normalized by the same elementwise ops: equal to rounding at most.
    torch.testing.assert_close(images[0, 9], images[0, 4].flip(-1), atol=1e-6, rtol=0)
    assert (images[0, 0] - images[0, 4]).abs().max() > 0.1  # another crop: clearly different


def test_root_without_train_val_is_split_per_class(tmp_path):
    root = make_image_folder(tmp_path / "flat", classes=3, per_class=8, split=False)
    dm = AlexNetDataModule(source="imagefolder", root=str(root), image_size=32, num_workers=0,
                           val_fraction=0.2)
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
    with pytest.raises(DataError, match=f"class folder {image_folder / 'train' / 'class9'} has "
                                        "no images"):
        _ = dm.num_classes


def test_class_count_must_match_the_data(image_folder):
    dm = AlexNetDataModule(source="imagefolder", root=str(image_folder), num_classes=5,
                           num_workers=0)
    with pytest.raises(ValueError, match="data.num_classes=5 is not valid; the data at .* has 3"):
        _ = dm.num_classes


def test_imagefolder_needs_a_root():
    with pytest.raises(ValueError, match="data.root=None is not valid"):
        AlexNetDataModule(source="imagefolder")


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"augment": "heavy"}, "data.augment"), ({"eval_crop": "five"}, "data.eval_crop"),
    ({"source": "cifar"}, "data.source"), ({"batch_size": 0}, "data.batch_size")])
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
    dm = AlexNetDataModule(num_classes=3, image_size=48, augment="paper", eval_crop="ten_crop",
                           train_per_class=2, val_per_class=1, test_per_class=1, batch_size=3,
                           num_workers=0)
    dm.setup("fit")
    train_images, _ = first_batch(dm.train_dataloader())
    val_images, _ = first_batch(dm.val_dataloader())
    assert train_images.shape == (3, 3, 48, 48) and val_images.shape == (3, 10, 3, 48, 48)


def test_jpegs_decoded_on_the_device_match_the_loaders_images(image_folder):
    common = {"source": "imagefolder", "root": str(image_folder), "image_size": 64,
              "num_workers": 0, "batch_size": 6}
    loader = AlexNetDataModule(**common)
    device = AlexNetDataModule(**common, decode="device")
    for dm in (loader, device):
        dm.setup("fit")
    reference, labels = next(iter(loader.val_dataloader()))
    encoded, device_labels = next(iter(device.val_dataloader()))
    assert isinstance(encoded, list) and any(item.dim() == 1 for item in encoded)  # raw JPEGs
    images, device_labels = device.on_before_batch_transfer((encoded, device_labels), 0)
    assert images.shape == reference.shape and torch.equal(device_labels, labels)
    # Two JPEG decoders and PIL vs tensor resizing: close, not bit-identical.
    assert (images - reference).abs().mean() < 0.1


def test_a_truncated_jpeg_decoded_on_the_device_follows_the_policy(image_folder):
    good = next((image_folder / "val" / "class0").glob("*.jpg"))
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 3])
    common = {"source": "imagefolder", "root": str(image_folder), "image_size": 64,
              "num_workers": 0, "batch_size": 6, "decode": "device"}
    dm = AlexNetDataModule(**common)
    dm.setup("fit")
    batch = next(iter(dm.val_dataloader()))
    images, _ = dm.on_before_batch_transfer(batch, 0)
    assert images.shape[0] == 6 and torch.isfinite(images).all()
    strict = AlexNetDataModule(**common | {"bad_files": "fail"})
    strict.setup("fit")
    with pytest.raises(DataError, match="undecodable JPEG"):
        strict.on_before_batch_transfer(next(iter(strict.val_dataloader())), 0)


def test_decoding_on_the_device_runs_a_training(tmp_path, image_folder):
    from alexnet.run import train
    from tests.conftest import compose_train

    record = train(compose_train("model=mini", "trainer=cpu", "data=imagefolder",
                                  f"data.root={image_folder}", "data.image_size=64",
                                  "data.batch_size=4", "data.num_workers=0", "data.decode=device",
                                  "debug=fast_dev_run", "logger=none", output_dir=tmp_path))
    assert record["status"] == "completed"
