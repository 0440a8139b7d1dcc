"""model.weights: loading torchvision's and our weights, the head, misfits, and the ImageNet
weights from torchvision's cache (model.freeze: tests/models/test_freeze.py). Nothing here
touches the network: the imagenet tests block it and point torch's cache at a temporary folder."""

from __future__ import annotations

import logging
import urllib.request
from pathlib import Path

import pytest
import torch
import torchvision

from alexnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from alexnet.errors import DataError, InvalidValue
from alexnet.models import create_model
from alexnet.models.weights import load_weights
from alexnet.run.setup import build_module
from tests.conftest import compose_train

IMAGENET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"


@pytest.fixture(scope="module")
def torchvision_file(tmp_path_factory) -> Path:
    """A torchvision AlexNet's state_dict (random weights, 1000 classes), saved as users do."""
    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("weights") / "torchvision_alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


@pytest.fixture
def offline(tmp_path, monkeypatch) -> Path:
    """No network (every URL goes to a closed local port) and an empty torch cache; returns
    the folder torchvision's weights API caches into."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    closed = "http://127.0.0.1:9"
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": closed, "https": closed})
    )
    monkeypatch.setattr(urllib.request, "_opener", opener)
    return tmp_path / "torch" / "hub" / "checkpoints"


def assert_one_line(err: pytest.ExceptionInfo, *parts: str) -> str:
    text = str(err.value)
    assert "\n" not in text
    for part in parts:
        assert part in text
    return text


def test_our_alexnet_has_torchvisions_keys_and_shapes():
    ours = create_model("alexnet").state_dict()
    theirs = torchvision.models.alexnet(weights=None).state_dict()
    assert list(ours) == list(theirs)
    assert all(ours[key].shape == theirs[key].shape for key in ours)


def test_a_torchvision_state_dict_loads_by_path(torchvision_file):
    model = create_model("alexnet", num_classes=1000)
    info = load_weights(model, str(torchvision_file))
    expected = torch.load(torchvision_file, weights_only=True)
    loaded = model.state_dict()
    # bit for bit: loading copies the saved tensors (here and in every load check below)
    assert all(torch.equal(loaded[key], expected[key]) for key in expected)
    assert info["kind"] == "state_dict" and info["loaded"] and not info["head_reinitialized"]
    assert info["mean"] == IMAGENET_MEAN and info["std"] == IMAGENET_STD


def test_another_class_count_reinitializes_the_head_and_logs_both_counts(torchvision_file, caplog):
    model = create_model("alexnet", num_classes=7)
    own_head = model.classifier[6].weight.detach().clone()
    with caplog.at_level(logging.INFO, logger="alexnet.models.weights"):
        info = load_weights(model, str(torchvision_file))
    expected = torch.load(torchvision_file, weights_only=True)
    loaded = model.state_dict()
    assert info["head_reinitialized"]
    assert all(
        torch.equal(loaded[key], expected[key])
        for key in expected
        if not key.startswith("classifier.6.")
    )
    assert loaded["classifier.6.weight"].shape == (7, 4096)
    assert torch.equal(loaded["classifier.6.weight"], own_head)  # the model's own fresh init
    head_lines = [r.getMessage() for r in caplog.records if "re-initialized" in r.getMessage()]
    assert len(head_lines) == 1
    assert "1000 classes" in head_lines[0] and "the model 7" in head_lines[0]
    assert "classifier.6" in head_lines[0]


def test_a_mismatched_layer_is_one_line_naming_the_first_one(tmp_path):
    path = tmp_path / "mini.pt"
    torch.save(create_model("mini", num_classes=10).state_dict(), path)
    with pytest.raises(InvalidValue) as err:
        load_weights(create_model("alexnet", num_classes=10), str(path))
    assert_one_line(
        err,
        "model.weights=",
        "features.0.weight",
        "[32, 3, 7, 7] in the file",
        "[64, 3, 11, 11] in the model",
    )


def test_a_layer_before_the_head_must_fit_even_with_another_class_count(torchvision_file):
    model = create_model("alexnet", num_classes=10, hidden=512)
    with pytest.raises(InvalidValue) as err:
        load_weights(model, str(torchvision_file))
    assert_one_line(
        err, "classifier.1.weight", "[4096, 9216] in the file", "[512, 9216] in the model"
    )


def test_a_layer_missing_from_the_file_is_named(tmp_path):
    state = create_model("alexnet", num_classes=10).state_dict()
    del state["features.8.weight"]
    torch.save(state, tmp_path / "partial.pt")
    with pytest.raises(InvalidValue) as err:
        load_weights(create_model("alexnet", num_classes=10), str(tmp_path / "partial.pt"))
    assert_one_line(err, "it has no features.8.weight")


def test_a_missing_or_unreadable_file_is_one_line(tmp_path):
    model = create_model("mini", num_classes=3)
    with pytest.raises(InvalidValue) as err:
        load_weights(model, str(tmp_path / "nope.pt"))
    assert_one_line(err, "nope.pt", "no such file")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InvalidValue) as err:
        load_weights(model, str(tmp_path / "junk.pt"))
    assert_one_line(err, "junk.pt", "not a readable state_dict or checkpoint")


def test_a_lightning_style_checkpoint_loads_with_its_data_statistics(tmp_path):
    source = create_model("mini", num_classes=3)
    checkpoint = {
        "state_dict": {f"model.{k}": v for k, v in source.state_dict().items()},
        "datamodule_hyper_parameters": {"mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.2]},
    }
    torch.save(checkpoint, tmp_path / "run.ckpt")
    model = create_model("mini", num_classes=3)
    info = load_weights(model, str(tmp_path / "run.ckpt"))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in source.state_dict().items())
    assert info["kind"] == "checkpoint"
    assert info["mean"] == (0.5, 0.4, 0.3) and info["std"] == (0.2, 0.2, 0.2)
    del checkpoint["datamodule_hyper_parameters"]
    torch.save(checkpoint, tmp_path / "bare.ckpt")
    info = load_weights(create_model("mini", num_classes=3), str(tmp_path / "bare.ckpt"))
    assert info["mean"] is None and info["std"] is None


def test_imagenet_offline_is_one_line_naming_the_url_and_the_cache_folder(offline):
    with pytest.raises(DataError) as err:
        load_weights(create_model("alexnet", num_classes=10), "imagenet")
    assert_one_line(err, "model.weights=imagenet", IMAGENET_URL, str(offline))


def test_imagenet_weights_come_from_torchvisions_cache(offline, torchvision_file):
    offline.mkdir(parents=True)
    (offline / Path(IMAGENET_URL).name).symlink_to(torchvision_file)
    model = create_model("alexnet", num_classes=1000)
    info = load_weights(model, "imagenet")
    expected = torch.load(torchvision_file, weights_only=True)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items())
    assert info["kind"] == "imagenet" and info["mean"] == IMAGENET_MEAN


def test_a_corrupt_cached_imagenet_file_is_one_line_naming_it(offline):
    offline.mkdir(parents=True)
    (offline / Path(IMAGENET_URL).name).write_bytes(b"truncated")
    with pytest.raises(DataError) as err:
        load_weights(create_model("alexnet", num_classes=10), "imagenet")
    assert_one_line(err, str(offline / Path(IMAGENET_URL).name), "cannot be read")


@pytest.mark.parametrize(
    ("preset", "knobs", "message"),
    [
        (
            "paper2012",
            {},
            "only model=alexnet (torchvision's layout) can take the ImageNet weights, "
            "not model=paper2012",
        ),
        ("mini", {}, "not model=mini"),
        (
            "alexnet",
            {"widths": (32, 192, 384, 256, 256)},
            "features.0.weight is [64, 3, 11, 11] there but [32, 3, 11, 11] in this model",
        ),
    ],
)
def test_imagenet_weights_fit_only_torchvisions_layout(offline, preset, knobs, message):
    model = create_model(preset, num_classes=10, **knobs)
    with pytest.raises(InvalidValue) as err:  # not a DataError: no download was tried
        load_weights(model, "imagenet", preset=preset)
    assert_one_line(err, "model.weights='imagenet'", message)


def test_resuming_does_not_download_the_imagenet_weights(offline, tmp_path):
    cfg = compose_train(
        "model=alexnet",
        "model.weights=imagenet",
        "trainer=cpu",
        f"ckpt_path={tmp_path / 'last.ckpt'}",
        output_dir=tmp_path / "run",
    )
    module = build_module(cfg, num_classes=10)
    assert module.weights_info is not None and not module.weights_info["loaded"]
    assert module.weights_info["mean"] == IMAGENET_MEAN
    assert not offline.exists() or not list(offline.iterdir())
