"""alexnet.interpret: attributions (checked on hand-made models whose evidence is known), favourite
patches, receptive fields, nearest neighbours, the visualizer's figures, captum being optional."""

import ast
import copy
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

import alexnet
from alexnet import create_model
from alexnet.interpret import (
    embed,
    embedding_layer,
    grad_cam,
    guided_backprop,
    nearest_neighbours,
    occlusion,
    patch_crops,
    receptive_field,
    top_patches,
)
from alexnet.models.inspect import AlexNetFeatureExtractor
from alexnet.viz import AlexNetVisualizer

pytest.importorskip("captum")

SQUARE = (slice(4, 12), slice(20, 28))  # a bright square in the top-right quadrant of 32x32


class Brightness(nn.Module):
    """Class 0 = how much of the image is bright (conv1 fires where the 3x3 mean is over 0.5);
    class 1 = the opposite."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 1, 3, padding=1), nn.ReLU(inplace=True))
        self.classifier = nn.Linear(1, 2)
        with torch.no_grad():
            self.features[0].weight.fill_(1 / 27)
            self.features[0].bias.fill_(-0.5)
            self.classifier.weight.copy_(torch.tensor([[1.0], [-1.0]]))
            self.classifier.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


def bright_square() -> torch.Tensor:
    image = torch.zeros(1, 3, 32, 32)
    image[:, :, SQUARE[0], SQUARE[1]] = 1.0
    return image


def test_grad_cam_peaks_on_the_evidence_and_restores_the_model():
    model = Brightness().train()
    cam = grad_cam(model, bright_square(), target=0, layer="conv1")  # alias of features.0
    # Scaled to [0, 1]: the top pixel is (high - low) / (high - low), 1 up to the division.
    assert cam.shape == (1, 32, 32) and cam.min() >= 0 and cam.max() == pytest.approx(1, abs=1e-6)
    y, x = divmod(int(cam[0].argmax()), 32)
    assert 4 <= y < 12 and 20 <= x < 28
    assert cam[0, :16, 16:].sum() > 0.95 * cam.sum()  # top right, not transposed
    assert model.training and model.features[1].inplace


def test_grad_cam_on_the_presets():
    torch.manual_seed(0)
    for preset, layers in (("mini", ("conv1", "conv3")), ("alexnet", ("conv2", "features.10"))):
        model = create_model(preset, num_classes=3).train()
        images = torch.randn(2, 3, 80, 80)
        for layer in layers:
            cam = grad_cam(model, images, layer=layer)
            assert cam.shape == (2, 80, 80) and 0 <= cam.min() and cam.max() <= 1
        assert model.training
        assert all(m.inplace for m in model.modules() if isinstance(m, nn.ReLU))
    # Exact: the alias and the module name are the same layer, so this is one computation run
    # twice in this process on the same input (same kernels, same threads): bit-identical.
    assert torch.equal(
        grad_cam(model, images, layer="conv5"), grad_cam(model, images, layer="features.10")
    )
    with pytest.raises(ValueError, match="Grad-CAM needs a conv layer"):
        grad_cam(model, images, layer="act5")


def test_occlusion_is_positive_on_the_evidence_only():
    maps = occlusion(Brightness(), bright_square(), target=0, window=4, stride=2)
    assert maps.shape == (1, 32, 32)
    y, x = divmod(int(maps[0].argmax()), 32)
    assert 2 <= y < 14 and 18 <= x < 30
    # Hiding black background changes nothing, up to the float32 rounding of the logit (a mean
    # of 1024 ReLU outputs): captum runs the occluded copies in batches of 16 and the reference
    # alone, and oneDNN's conv may sum them in another order: 0 with its AVX2 kernels, 4.5e-8
    # (1.5e-6 of the evidence, so 1e-6 would be too tight) with AVX-512 on an AMD EPYC, 3.4e-8
    # on an AVX-512 Xeon. Zero to 1e-4 of the strongest evidence: any real evidence there would
    # be of the order of the strongest.
    evidence = maps.abs().max()
    assert evidence > 0.01  # hiding part of the square drops the logit (0.0215) by up to 0.03
    assert maps[0, 18:, :14].abs().max() <= 1e-4 * evidence


def test_guided_backprop_is_zero_where_the_input_cannot_reach():
    model = Brightness()
    image = torch.ones(1, 3, 32, 32)
    image[..., 16:] = -5.0  # conv1 is off there: no gradient passes its ReLU
    grads = guided_backprop(model, image, target=0)
    assert grads.shape == image.shape
    # Each input gradient there sums only products with exact zeros (the ReLU's mask), so it
    # is 0 in any summation order; allowed: 1e-6 of the largest gradient, in case a conv
    # algorithm mixes neighbouring values (any real leak would be of the order of the largest).
    assert grads[..., 17:].abs().max() <= 1e-6 * grads.abs().max()
    assert (grads[..., :15] > 0).all()
    # Guided: negative gradients stop at the ReLU, so class 1 (weight -1) gets nothing at all,
    # where the plain gradient is negative. Exact: every gradient behind the ReLU is 0, so every
    # term of every sum is 0.
    assert guided_backprop(model, image, target=1).abs().max() == 0
    plain = image.clone().requires_grad_(True)
    model(plain)[0, 1].backward()
    assert plain.grad[..., :15].max() < 0


def test_guided_backprop_on_the_presets_leaves_the_model_unchanged():
    torch.manual_seed(0)
    for preset in ("mini", "alexnet"):
        model = create_model(preset, num_classes=3).eval()
        images = torch.randn(2, 3, 64, 64)
        before = model(images)
        grads = guided_backprop(model, images)
        assert grads.shape == images.shape and torch.isfinite(grads).all() and grads.abs().sum() > 0
        # Exact: the same forward run twice in this process on the same input: bit-identical
        # unless the weights or the layers changed.
        assert torch.equal(model(images), before) and not model.training
        assert all(m.inplace for m in model.modules() if isinstance(m, nn.ReLU))


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


def test_missing_captum_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    model = create_model("mini", num_classes=3)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[interpret\]"'):
        grad_cam(model, torch.randn(1, 3, 64, 64))
    with pytest.raises(ImportError, match="captum"):
        guided_backprop(model, torch.randn(1, 3, 64, 64))
    nearest_neighbours(model, torch.randn(1, 3, 64, 64), torch.randn(2, 3, 64, 64))  # no captum


def test_importing_alexnet_does_not_need_captum():
    # captum is imported inside functions only: no module of the package imports it at the top
    for path in Path(alexnet.__file__).parent.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "captum" for n in names), path


def test_attributions_leave_the_weights_unchanged():
    model = create_model("mini", num_classes=3)
    reference = copy.deepcopy(model)
    grad_cam(model, torch.randn(1, 3, 64, 64), layer="conv3")
    guided_backprop(model, torch.randn(1, 3, 64, 64))
    for (name, a), b in zip(model.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), name  # exact: untouched weights vs their deep copy
