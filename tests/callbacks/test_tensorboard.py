"""A short real training with the default callbacks, its event files read back."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from torchvision.utils import make_grid

from alexnet.data import AlexNetDataModule
from alexnet.data.samples import fixed_samples
from alexnet.data.transforms import IMAGENET_STATS, denormalize
from alexnet.run.api import train
from tests.conftest import TINY, compose_train

CONVS = ["conv1", "conv2", "conv3", "conv4", "conv5"]
ACTS = [f"act{i}" for i in range(1, 8)]


def read_events(run_dir: Path) -> list[EventAccumulator]:
    accumulators = []
    for path in sorted((run_dir / "tensorboard").glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(
            str(path), size_guidance={"images": 0, "scalars": 0, "histograms": 0, "tensors": 0}
        )
        accumulator.Reload()
        accumulators.append(accumulator)
    return accumulators


def tags(accumulators: list[EventAccumulator], kind: str) -> set[str]:
    return {tag for acc in accumulators for tag in acc.Tags()[kind]}


def image(accumulators, tag):
    return next(acc.Images(tag) for acc in accumulators if tag in acc.Tags()["images"])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    overrides = [
        *TINY,
        "trainer.max_epochs=2",
        "data.batch_size=6",
        "callbacks.activation_stats.grad_every_n_steps=1",
        "model=paper2012",
        "data.image_size=67",
        "data.num_classes=4",
    ]
    record = train(compose_train(*overrides, output_dir=out))
    return out, read_events(out), record


def test_filter_images_with_the_paper_layout(run):
    _, events, _ = run
    assert {f"filters/{c}" for c in CONVS} <= tags(events, "images")
    conv1 = image(events, "filters/conv1")
    assert len(conv1) == 2  # one per epoch; the end of fit shares the last epoch's step
    # paper2012: 96 kernels 11x11 upscaled x4 (44 px + 2 px padding), 16 per row, two tower blocks
    # of 48 (3 rows each) with a 6 px gap.
    assert (conv1[-1].width, conv1[-1].height) == (2 + 16 * 46, 2 * (2 + 3 * 46) + 6)
    conv3 = image(events, "filters/conv3")[-1]
    assert (conv3.width, conv3.height) == (2 + 16 * 14, 2 + 16 * 14)  # max_filters=256 of 384


def test_feature_maps_of_fixed_probe_images(run):
    _, events, _ = run
    assert {f"feature_maps/{c}" for c in CONVS} | {"feature_maps/inputs"} <= tags(events, "images")
    assert len(image(events, "feature_maps/inputs")) == 1  # logged once
    inputs = image(events, "feature_maps/inputs")[0]
    assert (inputs.width, inputs.height) == (2 + 4 * 69, 2 + 69)  # 4 probe images of 67 px
    conv1 = image(events, "feature_maps/conv1")[-1]
    # conv1 at 67 px: 15x15 maps, upscaled x2 -> 30 px tiles, 16 maps a row, one row per image.
    assert (conv1.width, conv1.height) == (1 + 16 * 31, 1 + 4 * 31)


def test_confusion_matrix_image(run):
    _, events, _ = run
    matrices = image(events, "val/confusion_matrix")
    assert len(matrices) == 2 and matrices[-1].width > 100


def test_activation_statistics_histograms_and_gradient_norms(run):
    _, events, _ = run
    scalars = tags(events, "scalars")
    for act in ACTS:
        for stat in ("zero_fraction", "dead_fraction", "mean", "std"):
            assert f"activations/{act}/{stat}" in scalars
    histograms = tags(events, "histograms")
    assert {f"activations/{a}" for a in ACTS} <= histograms
    assert {f"weights/{c}" for c in [*CONVS, "fc6", "fc7", "fc8"]} <= histograms
    assert {f"gradients/{c}" for c in [*CONVS, "fc6", "fc7", "fc8"]} <= scalars
    zero = [
        s.value
        for acc in events
        if "activations/act1/zero_fraction" in acc.Tags()["scalars"]
        for s in acc.Scalars("activations/act1/zero_fraction")
    ]
    assert all(0 < value < 1 for value in zero)  # ReLU: some, not all, exact zeros


def test_hparams_hold_the_runs_hyperparameters_and_metrics(run):
    _, events, _ = run
    content = next(
        acc.PluginTagToContent("hparams") for acc in events if acc.PluginTagToContent("hparams")
    )
    data = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = {
        k: getattr(v, v.WhichOneof("kind")) for k, v in data.session_start_info.hparams.items()
    }
    assert hparams["model"] == "paper2012" and hparams["activation"] == "relu"
    # a config value, stored as a number in the event file (perhaps through float32): no arithmetic
    assert hparams["optimizer"] == "adamw" and hparams["lr"] == pytest.approx(2e-4, rel=1e-6)
    assert hparams["batch_size"] == 6 and hparams["pooling"] == "overlapping"
    assert hparams["lrn"] in (True, 1.0) and hparams["dropout"] == 0.5  # paper2012 has LRN
    assert {"schedule", "augment", "seed", "image_size"} <= set(hparams)
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"])
    metric_tags = {m.name.tag for m in experiment.experiment.metric_infos}
    assert {"hparams/val_acc1", "hparams/val_loss", "hparams/train_loss"} <= metric_tags
    assert {"hparams/val_acc1"} <= tags(events, "scalars")


def test_no_callback_images_without_the_callbacks(tmp_path):
    out = tmp_path / "run"
    train(compose_train(*TINY, "trainer.max_epochs=1", "callbacks=none", output_dir=out))
    assert tags(read_events(out), "images") == set()


def test_pictures_undo_the_runs_own_normalization_not_imagenets(tmp_path):
    # A run normalized with its own statistics (as CIFAR's or MNIST's): its probe images must
    # come back by those, not by ImageNet's (they used to, whatever the data).
    stats = ([0.2, 0.3, 0.4], [0.1, 0.2, 0.3])
    cfg = compose_train(
        *TINY,
        "trainer.max_epochs=1",
        f"data.mean={stats[0]}",
        f"data.std={stats[1]}",
        output_dir=tmp_path,
    )
    train(cfg)
    logged = image(read_events(tmp_path), "feature_maps/inputs")[0]
    pixels = np.asarray(Image.open(io.BytesIO(logged.encoded_image_string)).convert("RGB"))
    pixels = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255
    datamodule = AlexNetDataModule(**{k: v for k, v in cfg.data.items() if k != "_target_"})
    datamodule.setup()
    images = fixed_samples(datamodule, "val", 4)[0]
    ours = make_grid(denormalize(images, (tuple(stats[0]), tuple(stats[1]))), nrow=4)
    imagenets = make_grid(denormalize(images, IMAGENET_STATS), nrow=4)
    assert (pixels - ours).abs().max() < 2 / 255  # PNG's 8 bits
    assert (pixels - imagenets).abs().max() > 0.2
