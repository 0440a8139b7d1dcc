import pytest
import torch
from torch import nn

from alexnet import AlexNetFeatureExtractor, create_model
from alexnet.models import ALEXNET_LAYERS, MINI_LAYERS
from alexnet.models.inspect import (
    activation_layers,
    conv_layers,
    layer_names,
    resolve_layer,
    weighted_layers,
)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("alexnet", num_classes=10).eval()


def test_extractor_returns_named_outputs_with_their_shapes(model):
    layers = ["conv1", "features.3", "pool5", "fc6", "fc7", "fc8", "conv5"]
    with AlexNetFeatureExtractor(model, layers) as extract:
        features = extract(torch.randn(2, 3, 224, 224))
    assert list(features) == layers
    shapes = {name: tuple(t.shape) for name, t in features.items()}
    assert shapes == {
        "conv1": (2, 64, 55, 55),
        "features.3": (2, 192, 27, 27),
        "pool5": (2, 256, 6, 6),
        "fc6": (2, 4096),
        "fc7": (2, 4096),
        "fc8": (2, 10),
        "conv5": (2, 256, 13, 13),
    }


def test_alias_and_module_name_give_the_same_output(model):
    x = torch.randn(1, 3, 224, 224)
    with AlexNetFeatureExtractor(model, ["conv2", "features.3"]) as extract:
        features = extract(x)
    assert torch.equal(features["conv2"], features["features.3"])  # one output, read twice


def test_conv_output_is_taken_before_the_in_place_activation(model):
    with AlexNetFeatureExtractor(model, ["conv1", "act1"]) as extract:
        features = extract(torch.randn(1, 3, 224, 224))
    assert (features["conv1"] < 0).any()
    # exact: the ReLU's output against a clamp of the same forward's conv output
    assert torch.equal(features["act1"], features["conv1"].clamp(min=0))


def test_model_outputs_unchanged_and_no_hook_left(model):
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        before = model(x)
    with AlexNetFeatureExtractor(model, ["conv1", "act1", "fc8"]) as extract:
        extract(x)
        assert sum(len(m._forward_hooks) for m in model.modules()) == 3
        with torch.no_grad():  # the same forward twice in this process, same input: exact
            assert torch.equal(model(x), before)
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
    with pytest.raises(RuntimeError, match="closed"):
        extract(x)


def test_hooks_are_removed_when_the_forward_raises(model):
    with pytest.raises(ValueError, match="minimum"):
        with AlexNetFeatureExtractor(model, ["conv1"]) as extract:
            extract(torch.randn(1, 3, 32, 32))
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


def test_unknown_layer_lists_the_valid_names(model):
    with pytest.raises(ValueError) as info:
        AlexNetFeatureExtractor(model, ["conv9"])
    message = str(info.value)
    assert "layer='conv9' is not valid" in message
    for name in ("conv1", "fc8", "features.0", "classifier.6", "avgpool"):
        assert name in message
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


@pytest.mark.parametrize(
    ("preset", "aliases"),
    [("alexnet", ALEXNET_LAYERS), ("paper2012", ALEXNET_LAYERS), ("mini", MINI_LAYERS)],
)
def test_aliases_resolve_to_modules_of_every_preset(preset, aliases):
    model = create_model(preset)
    for alias, name in aliases.items():
        assert resolve_layer(model, alias) == name
    assert set(aliases) <= set(layer_names(model))


def test_layer_groups_follow_the_model():
    alexnet, mini = create_model("alexnet"), create_model("mini")
    assert conv_layers(alexnet) == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    assert conv_layers(mini) == ["conv1", "conv2", "conv3"]
    assert activation_layers(mini) == ["act1", "act2", "act3", "act4"]
    assert weighted_layers(alexnet)[-3:] == ["fc6", "fc7", "fc8"]
    assert weighted_layers(mini) == ["conv1", "conv2", "conv3", "fc4", "fc5"]
    assert all(
        isinstance(dict(mini.named_modules())[resolve_layer(mini, a)], nn.Conv2d)
        for a in conv_layers(mini)
    )
    with pytest.raises(ValueError, match="layer='conv4' is not valid; valid names: conv1"):
        resolve_layer(mini, "conv4")
