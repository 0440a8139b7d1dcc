from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from alexnet import AlexNet, activation_names
from alexnet.models.activations import ACTIVATIONS, activation_defaults, make_activation

CONF = Path(__file__).resolve().parents[2] / "alexnet" / "config" / "conf" / "activation"


def test_registry_has_the_eight_activations():
    assert activation_names() == [
        "relu",
        "tanh",
        "sigmoid",
        "relu6",
        "leaky_relu",
        "elu",
        "gelu",
        "silu",
    ]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_every_activation_builds_runs_forward_and_backward(name):
    torch.manual_seed(0)
    model = AlexNet(num_classes=5, activation=name, widths=(8, 16, 16, 16, 16), hidden=32)
    x = torch.randn(2, 3, 64, 64)
    loss = model(x).square().mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    kind = type(make_activation(name))
    acts = [m for m in model.modules() if type(m) is kind]
    assert len(acts) == 7
    if name != "relu":
        assert not any(isinstance(m, nn.ReLU) for m in model.modules())


def test_activation_parameters_are_passed():
    model = AlexNet(activation="leaky_relu", activation_params={"negative_slope": 0.2})
    slopes = {m.negative_slope for m in model.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}
    assert make_activation("elu", {"alpha": 0.5}).alpha == 0.5
    assert make_activation("gelu", {"approximate": "tanh"}).approximate == "tanh"
    assert make_activation("leaky_relu").negative_slope == 0.01


def test_unknown_activation_parameter_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match="leaky_relu has no parameter slope; its parameters: negative_slope"
    ):
        make_activation("leaky_relu", {"slope": 0.1})


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_configs_mirror_the_registry(name):
    cfg = yaml.safe_load((CONF / f"{name}.yaml").read_text())
    assert cfg["name"] == name
    assert cfg["params"] == activation_defaults(name)


def test_no_activation_config_outside_the_registry():
    assert sorted(p.stem for p in CONF.glob("*.yaml")) == sorted(ACTIVATIONS)
