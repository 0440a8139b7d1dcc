"""What the model's config options build: the activation in every slot, dropout, LRN and
pooling, the network of each preset and channels_last, checked without training."""

import pytest
import torch
from torch import nn

from alexnet.models import AlexNet, MiniAlexNet
from alexnet.models.four_layer import FourLayerNet
from tests.support.option_builds import build, of_type, options

# Config values typed in (overrides, YAML) reach the modules unchanged: compared exactly below.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


@pytest.mark.parametrize("name", options("activation"))
def test_activation_option_builds_its_module_in_every_slot(tmp_path, name):
    _, module, _ = build(tmp_path, f"activation={name}")
    built = of_type(module.model, *ACTIVATIONS.values())
    assert [type(m) for m in built] == [ACTIVATIONS[name]] * 4  # mini: act1..act4


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        (["activation=leaky_relu", "activation.params.negative_slope=0.2"], "negative_slope", 0.2),
        (["activation=elu", "activation.params.alpha=0.5"], "alpha", 0.5),
        (["activation=gelu", "activation.params.approximate=tanh"], "approximate", "tanh"),
    ],
)
def test_activation_params_reach_every_activation(tmp_path, overrides, key, value):
    _, module, _ = build(tmp_path, *overrides)
    built = of_type(module.model, *ACTIVATIONS.values())
    assert [getattr(m, key) for m in built] == [value] * 4


@pytest.mark.parametrize(
    ("override", "rates"),
    [("dropout=standard", [0.5, 0.5]), ("dropout=none", []), ("dropout.p=0.3", [0.3, 0.3])],
)
def test_dropout_option_sets_both_dropouts(tmp_path, override, rates):
    _, module, _ = build(tmp_path, override)
    assert [m.p for m in of_type(module.model, nn.Dropout)] == rates


@pytest.mark.parametrize(
    ("override", "lrn", "pools"),
    [
        ("model.lrn=false", 0, [(3, 2), (3, 2)]),
        ("model.lrn=true", 2, [(3, 2), (3, 2)]),  # after conv1 and conv2
        ("model.pooling=non_overlapping", 0, [(2, 2), (2, 2)]),
    ],
)
def test_lrn_and_pooling_knobs_reach_the_model(tmp_path, override, lrn, pools):
    _, module, _ = build(tmp_path, override)
    assert len(of_type(module.model, nn.LocalResponseNorm)) == lrn
    assert [(p.kernel_size, p.stride) for p in of_type(module.model, nn.MaxPool2d)] == pools


MODELS = {
    "alexnet": (AlexNet, 64),
    "paper2012": (AlexNet, 96),
    "mini": (MiniAlexNet, 32),
    "four_layer": (FourLayerNet, 32),
}  # the network and conv1's width


@pytest.mark.parametrize("name", options("model"))
def test_model_option_builds_its_network_with_the_datas_classes(tmp_path, name):
    _, module, _ = build(tmp_path, f"model={name}")
    network, conv1 = MODELS[name]
    assert type(module.model) is network and module.model.features[0].out_channels == conv1
    assert of_type(module.model, nn.Linear)[-1].out_features == 3  # TINY's data.num_classes


def test_channels_last_keeps_weights_in_nhwc(tmp_path):
    _, module, _ = build(tmp_path, "channels_last=true")
    assert module.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert module.memory_format is torch.channels_last
