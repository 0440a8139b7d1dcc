"""callbacks=interpret: a real fit, its Grad-CAM and neighbour images and its projector files read
back and compared with what the library computes from the final weights."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from google.protobuf import text_format
from PIL import Image
from tensorboard.plugins.projector import projector_config_pb2

from alexnet.data import AlexNetDataModule
from alexnet.data.transforms import denormalize
from alexnet.errors import InvalidValue
from alexnet.interpret import embed, grad_cam, nearest_neighbours
from alexnet.interpret.grids import cam_grid, neighbour_grid
from alexnet.run.api import train
from alexnet.training.module import AlexNetModule
from tests.callbacks.test_tensorboard import image, read_events
from tests.conftest import TINY, compose_train

pytest.importorskip("captum", reason="the interpret extra (captum) is not installed")

OVERRIDES = [
    *TINY,
    "callbacks=interpret",
    "trainer.max_epochs=2",
    "data.val_per_class=4",
    "callbacks.grad_cam.num_images=4",
    "callbacks.nearest_neighbours.num_probes=3",
    "callbacks.nearest_neighbours.k=4",
    "callbacks.nearest_neighbours.gallery_size=10",
    "callbacks.embedding_projector.num_images=9",
    "callbacks.embedding_projector.thumbnail=16",
    "checkpoint_every_n_steps=0",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("interpret")
    cfg = compose_train(*OVERRIDES, output_dir=out)
    record = train(cfg)
    module = AlexNetModule.load_from_checkpoint(
        out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True
    )
    datamodule = AlexNetDataModule(**{k: v for k, v in cfg.data.items() if k != "_target_"})
    datamodule.setup()
    return out, read_events(out), record, module.model.eval(), datamodule


def decoded(event) -> torch.Tensor:
    """A logged image as (3, H, W) in [0, 1]."""
    array = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)).convert("RGB"))
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255


def split(datamodule, name, count):
    dataset = datamodule.datasets[name]
    torch.manual_seed(0)  # the callbacks draw a training split's augmentation from seed 0
    items = [dataset[i] for i in range(min(count, len(dataset)))]
    return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])


def display(datamodule, images):
    return denormalize(images, datamodule.stats)


def test_grad_cam_images_are_the_final_models_maps(run):
    _, events, _, model, datamodule = run
    logged = image(events, "interpret/grad_cam")
    assert len(logged) == 2  # one per epoch; the end of fit shares the last epoch's step
    images, labels = split(datamodule, "val", 4)
    maps = grad_cam(model, images, labels)  # the last conv (conv3 of mini), the true classes
    expected = cam_grid(display(datamodule, images), maps)
    assert decoded(logged[-1]).shape == expected.shape == (3, 2 + 2 * 66, 2 + 4 * 66)
    assert (decoded(logged[-1]) - expected).abs().max() < 2 / 255  # PNG's 8 bits


def test_nearest_neighbour_grid_is_the_final_models_neighbours(run):
    _, events, _, model, datamodule = run
    logged = image(events, "interpret/nearest_neighbours")
    probes, _ = split(datamodule, "val", 3)
    gallery, _ = split(datamodule, "train", 10)
    _, indices = nearest_neighbours(model, probes, gallery, 4)
    expected = neighbour_grid(display(datamodule, probes), display(datamodule, gallery), indices)
    assert decoded(logged[-1]).shape == expected.shape == (3, 2 + 3 * 66, 2 + 6 * 66)
    assert (decoded(logged[-1]) - expected).abs().max() < 2 / 255


def test_projector_holds_the_last_hidden_layer_with_labels_and_sprites(run):
    out, events, record, model, datamodule = run
    config = projector_config_pb2.ProjectorConfig()
    text_format.Parse((out / "tensorboard" / "projector_config.pbtxt").read_text(), config)
    (embedding,) = config.embeddings  # every_n_epochs=10: only the end of fit
    assert embedding.tensor_name.startswith("act4")  # mini's fc4 after its ReLU
    folder = out / "tensorboard" / Path(embedding.tensor_path).parent
    vectors = np.loadtxt(out / "tensorboard" / embedding.tensor_path, delimiter="\t")
    images, labels = split(datamodule, "val", 9)
    assert vectors.shape == (9, model.classifier[-1].in_features)
    # the callback embedded with the weights in training, this with them loaded: the same
    # values, but another batch and module state, so float32 rounding apart
    np.testing.assert_allclose(vectors, embed(model, images).numpy(), atol=1e-4, rtol=1e-5)
    names = (folder / "metadata.tsv").read_text().split()
    assert names == [datamodule.classes[i] for i in labels.tolist()]
    sprite = Image.open(out / "tensorboard" / embedding.sprite.image_path)
    assert list(embedding.sprite.single_image_dim) == [16, 16]
    assert sprite.size == (3 * 16, 3 * 16)  # 9 thumbnails, 3 a row


def test_a_bad_layer_stops_before_training(tmp_path):
    cfg = compose_train(*OVERRIDES, "callbacks.grad_cam.layer=fc4", output_dir=tmp_path / "r")
    with pytest.raises(InvalidValue, match="layer='fc4'.*conv1, conv2, conv3"):
        train(cfg)
    assert not list(tmp_path.rglob("*.ckpt"))  # nothing trained
