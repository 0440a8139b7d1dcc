"""alexnet.interpret's attributions: Grad-CAM, occlusion and guided backpropagation, checked on
hand-made models whose evidence is known and on the presets, leaving the model as it was; captum
being optional (receptive fields, favourite patches, nearest neighbours and the visualizer's
figures: tests/interpret/test_interpret_features.py)."""

import ast
import copy
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import alexnet
from alexnet import create_model
from alexnet.interpret import grad_cam, guided_backprop, nearest_neighbours, occlusion

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
