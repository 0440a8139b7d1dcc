"""alexnet.interpret on what the features see: receptive fields, favourite patches, nearest
neighbours in the hidden layer, and the visualizer's figures (the attributions:
tests/interpret/test_interpret_attributions.py)."""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from alexnet import create_model
from alexnet.interpret import (
    embed,
    embedding_layer,
    nearest_neighbours,
    patch_crops,
    receptive_field,
    top_patches,
)
from alexnet.models.inspect import AlexNetFeatureExtractor
from alexnet.viz import AlexNetVisualizer

pytest.importorskip("captum")


def test_receptive_fields():
    alexnet, mini = create_model("alexnet", num_classes=3), create_model("mini", num_classes=3)
    assert [tuple(receptive_field(alexnet, f"conv{i}")) for i in range(1, 6)] == [
        (11, 4, 2),
        (51, 8, 18),
        (99, 16, 34),
        (131, 16, 50),
        (163, 16, 66),
    ]
    assert [tuple(receptive_field(mini, f"conv{i}")) for i in range(1, 4)] == [
        (7, 2, 2),
        (27, 4, 10),
        (51, 8, 18),
    ]
    assert receptive_field(alexnet, "act2") == receptive_field(alexnet, "conv2")
    with pytest.raises(ValueError, match="layer of the model's `features`"):
        receptive_field(alexnet, "fc6")
    with pytest.raises(ValueError, match="adaptive pool"):
        receptive_field(mini, "avgpool")


@pytest.mark.parametrize(
    ("preset", "layer", "position"),
    [
        ("alexnet", "conv1", 10),
        ("alexnet", "conv2", 6),
        ("alexnet", "conv3", 3),
        ("mini", "conv3", 7),
    ],
)
def test_receptive_field_is_where_the_gradient_reaches(preset, layer, position):
    # tanh and average pools pass a gradient from every input pixel the unit sees, and no other
    model = create_model(preset, num_classes=3, activation="tanh").eval()
    for index, module in enumerate(model.features):
        if isinstance(module, nn.MaxPool2d):
            model.features[index] = nn.AvgPool2d(module.kernel_size, module.stride, module.padding)
    field = receptive_field(model, layer)
    image = torch.randn(1, 3, 128, 128, requires_grad=True)
    with AlexNetFeatureExtractor(model, [layer], detach=False) as extract:
        extract(image)[layer][0, :, position, position].sum().backward()
    rows = image.grad[0].abs().sum((0, 2)).nonzero()[:, 0]
    start = position * field.stride - field.padding
    assert (rows.min(), rows.max() + 1) == (start, start + field.size)


def test_top_patches_match_a_forward_pass():
    torch.manual_seed(0)
    model = create_model("alexnet", num_classes=3).train()
    images = torch.randn(6, 3, 96, 96)
    units = [0, 3, 7]
    patches = top_patches(model, images, "conv2", units, k=4, batch_size=4)
    assert model.training and list(patches) == units
    with AlexNetFeatureExtractor(model.eval(), ["conv2"]) as extract, torch.no_grad():
        maps = extract(images)["conv2"]
    for unit in units:
        best = maps[:, unit].flatten(1).max(1)
        values, order = best.values.topk(4)
        # top_patches runs batches of 4 and 2, this one of 6: the values differ by rounding
        # (~1e-7), so they get a tolerance; the orders and positions are compared exactly, as
        # with seed 0 the maxima and each map's top two positions are >= 9e-4 apart.
        assert [p.image for p in patches[unit]] == order.tolist()
        assert [p.activation for p in patches[unit]] == pytest.approx(values.tolist(), abs=1e-5)
        for patch in patches[unit]:
            y, x = divmod(int(best.indices[patch.image]), maps.shape[-1])
            y0, x0 = 8 * y - 18, 8 * x - 18  # conv2: 51 px, stride 8, padding 18
            assert patch.box == (max(0, y0), max(0, x0), min(96, y0 + 51), min(96, x0 + 51))
            assert maps[patch.image, unit, y, x] == pytest.approx(patch.activation, abs=1e-5)
    assert len(top_patches(model, images, "conv1", [1], k=50)[1]) == 6  # k capped at the images
    with pytest.raises(ValueError, match="conv2 has units 0..191"):
        top_patches(model, images, "conv2", [192])


def test_top_patch_of_a_hand_set_unit_is_the_bright_square():
    torch.manual_seed(0)
    model = create_model("alexnet", num_classes=3)
    with torch.no_grad():
        model.features[0].weight[0] = 1.0  # unit 0 of conv1 sums its 11x11 RGB patch
        model.features[0].bias[0] = 0.0
    images = torch.randn(4, 3, 96, 96) * 0.1
    images[2, :, 42:53, 62:73] = 3.0  # exactly the field of conv1 position (11, 16)
    patches = top_patches(model, images, "conv1", [0], k=2)
    assert patches[0][0].image == 2 and patches[0][0].box == (42, 62, 53, 73)
    assert patches[0][0].activation == pytest.approx(3.0 * 363, rel=1e-4)
    crop = patch_crops(images, patches)[0][0]
    assert crop.shape == (3, 11, 11) and (crop == 3.0).all()  # a slice of the image: exact


def test_embedding_layers():
    import torchvision

    assert embedding_layer(create_model("alexnet", num_classes=3)) == "act7"
    assert embedding_layer(create_model("mini", num_classes=3)) == "act4"
    assert embedding_layer(torchvision.models.alexnet(num_classes=3)) == "act7"


def test_nearest_neighbours_in_the_hidden_layer():
    torch.manual_seed(0)
    model = create_model("mini", num_classes=3).train()
    gallery = torch.randn(10, 3, 64, 64)
    probes = gallery[[3, 7]]
    distances, indices = nearest_neighbours(model, probes, gallery, k=4, batch_size=3)
    assert model.training and distances.shape == indices.shape == (2, 4)
    assert indices[:, 0].tolist() == [3, 7] and distances[:, 0].abs().max() < 1e-4
    assert (distances.diff(dim=1) >= 0).all()
    model.eval()
    with torch.no_grad():  # act4: fc4's output after its ReLU
        hidden = model.classifier[:3](torch.flatten(model.features(gallery), 1))
    features = embed(model, gallery, batch_size=4)
    # embed runs batches of 4, this one of 10: other GEMM blocking, so float32 rounding apart.
    torch.testing.assert_close(features, hidden, atol=1e-5, rtol=1e-5)
    assert (features >= 0).all()  # a ReLU's output: exact zeros, no negative values
    expected = torch.cdist(hidden[[3, 7]], hidden)
    torch.testing.assert_close(distances, expected.gather(1, indices), atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(distances, expected.sort(1).values[:, :4], atol=1e-4, rtol=1e-5)
    assert nearest_neighbours(model, probes, gallery, k=50)[1].shape == (2, 10)


def test_visualizer_figures(tmp_path):
    torch.manual_seed(0)
    model = create_model("mini", num_classes=3).train()
    visualizer = AlexNetVisualizer(model)
    images = torch.randn(3, 3, 64, 64)
    before = plt.get_fignums()
    path = tmp_path / "cam.png"
    assert len(visualizer.plot_grad_cam(images, layer="conv2", path=path).axes) == 3
    assert path.stat().st_size > 1000
    assert len(visualizer.plot_occlusion(images, window=16, stride=16).axes) == 3
    assert len(visualizer.plot_guided_backprop(images[0]).axes) == 1
    patches = visualizer.plot_top_patches(images, "conv1", units=[0, 1], k=3)
    assert len(patches.axes) == 6 and sum(len(a.get_images()) for a in patches.axes) == 6
    neighbours = visualizer.plot_nearest_neighbours(images[:2], images, k=2)
    assert len(neighbours.axes) == 6 and neighbours.axes[1].get_title() == "0"
    assert model.training and plt.get_fignums() == before
