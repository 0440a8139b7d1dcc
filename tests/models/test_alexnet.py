import pytest
import torch
import torchvision
from torch import nn

from alexnet import AlexNet, create_model
from alexnet.models import MiniAlexNet

CONV_INDICES = {"conv1": 0, "conv2": 3, "conv3": 6, "conv4": 8, "conv5": 10}


def test_torchvision_state_dict_loads_strict_and_gives_identical_outputs():
    torch.manual_seed(0)
    reference = torchvision.models.alexnet(weights=None).eval()
    model = AlexNet(num_classes=1000).eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    # Bit for bit: the same layers in the same order (features, avgpool, flatten, classifier)
    # with the same weights on the same input in this process run the same kernels; a layout
    # that differed anywhere would differ by far more than rounding.
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))


def test_module_layout_matches_torchvision():
    model = AlexNet()
    for name, index in CONV_INDICES.items():
        assert isinstance(model.features[index], nn.Conv2d), name
    assert [type(m) for m in model.classifier] == [
        nn.Dropout,
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
        nn.ReLU,
        nn.Linear,
    ]
    assert isinstance(model.avgpool, nn.AdaptiveAvgPool2d)


@pytest.mark.parametrize(
    ("preset", "classes", "count"),
    [("alexnet", 1000, 61_100_840), ("paper2012", 1000, 60_965_224), ("mini", 10, 2_494_794)],
)
def test_preset_parameter_counts(preset, classes, count):
    model = create_model(preset, num_classes=classes)
    assert sum(p.numel() for p in model.parameters()) == count


def test_mini_is_the_notebooks_layer_for_layer():
    model = create_model("mini", num_classes=10)
    assert type(model) is MiniAlexNet
    convs = [
        (m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding)
        for m in model.features
        if isinstance(m, nn.Conv2d)
    ]
    assert convs == [
        (3, 32, (7, 7), (2, 2), (2, 2)),
        (32, 64, (5, 5), (1, 1), (2, 2)),
        (64, 128, (3, 3), (1, 1), (1, 1)),
    ]
    assert [type(m) for m in model.features] == [
        nn.Conv2d,
        nn.ReLU,
        nn.MaxPool2d,
        nn.Conv2d,
        nn.ReLU,
        nn.MaxPool2d,
        nn.Conv2d,
        nn.ReLU,
        nn.AdaptiveAvgPool2d,
    ]
    assert all(
        (p.kernel_size, p.stride) == (3, 2) for p in model.features if isinstance(p, nn.MaxPool2d)
    )
    assert model.features[8].output_size == (6, 6)
    assert [type(m) for m in model.classifier] == [
        nn.Dropout,
        nn.Linear,
        nn.ReLU,
        nn.Dropout,
        nn.Linear,
    ]
    assert [
        (m.in_features, m.out_features) for m in model.classifier if isinstance(m, nn.Linear)
    ] == [(4608, 512), (512, 10)]
    assert model.classifier[0].p == model.classifier[3].p == 0.5
    alexnet = sum(p.numel() for p in AlexNet(num_classes=1000).parameters())
    assert round(alexnet / sum(p.numel() for p in model.parameters()), 1) == 24.5  # the notebook's


def test_mini_takes_the_activation_and_dropout_knobs():
    model = create_model("mini", num_classes=4, activation="tanh", dropout=0.2)
    assert sum(isinstance(m, nn.Tanh) for m in model.modules()) == 4
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.2, 0.2]
    with pytest.raises(
        ValueError,
        match=r"knob='groups' is not valid; the mini preset "
        r"\(MiniAlexNet\) has no such knob; its knobs: dropout",
    ):
        create_model("mini", groups=2)


def test_dropout_placement_torchvision_and_paper():
    def dropouts(model):
        return [name for name, m in model.named_modules() if isinstance(m, nn.Dropout)]

    # torchvision: the inputs of fc6 (classifier.0) and fc7 (classifier.3).
    assert dropouts(create_model("alexnet")) == ["classifier.0", "classifier.3"]
    # The paper: the outputs of fc6 (classifier.3) and fc7 (after act7, before fc8).
    paper = create_model("paper2012")
    assert dropouts(paper) == ["classifier.3", "classifier.5.1"]
    assert isinstance(paper.classifier[0], nn.Identity)
    assert list(paper.state_dict()) == list(create_model("alexnet").state_dict())
    model = AlexNet(num_classes=3, hidden=8, widths=(8, 8, 8, 8, 8), dropout_placement="paper")
    model.train()
    seen = {}
    model.classifier[6].register_forward_pre_hook(lambda _m, args: seen.update(fc8_in=args[0]))
    model(torch.randn(64, 3, 63, 63))
    # fc7's output is dropped before fc8; dropout multiplies by an exact 0 (and ReLU clamps to
    # an exact 0), so these zeros are exact
    assert (seen["fc8_in"] == 0).float().mean() > 0.3


def test_paper2012_at_227_gives_55x55x96_after_conv1():
    model = create_model("paper2012")
    assert model.features[0](torch.zeros(1, 3, 227, 227)).shape == (1, 96, 55, 55)
    assert model.features[3].groups == model.features[8].groups == model.features[10].groups == 2
    assert model.features[6].groups == 1


@pytest.mark.parametrize(
    ("preset", "size", "shapes"),
    [
        (
            "alexnet",
            224,
            {
                0: (64, 55, 55),
                2: (64, 27, 27),
                3: (192, 27, 27),
                5: (192, 13, 13),
                6: (384, 13, 13),
                8: (256, 13, 13),
                10: (256, 13, 13),
                12: (256, 6, 6),
            },
        ),
        ("alexnet", 227, {0: (64, 56, 56), 2: (64, 27, 27), 12: (256, 6, 6)}),
        (
            "paper2012",
            227,
            {
                0: (96, 55, 55),
                2: (96, 27, 27),
                3: (256, 27, 27),
                5: (256, 13, 13),
                6: (384, 13, 13),
                8: (384, 13, 13),
                10: (256, 13, 13),
                12: (256, 6, 6),
            },
        ),
        ("paper2012", 224, {0: (96, 54, 54), 2: (96, 26, 26), 12: (256, 5, 5)}),
    ],
)
def test_layer_shapes(preset, size, shapes):
    model = create_model(preset).eval()
    x = torch.zeros(1, 3, size, size)
    seen = {}
    with torch.no_grad():
        for index, layer in enumerate(model.features):
            x = layer(x)
            seen[index] = tuple(x.shape[1:])
        assert model(torch.zeros(1, 3, size, size)).shape == (1, 1000)
    assert {i: seen[i] for i in shapes} == shapes


@pytest.mark.parametrize("size", [(63, 63), (100, 300), (512, 384)])
def test_any_size_the_adaptive_pool_takes(size):
    model = create_model("alexnet", num_classes=7).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, *size)).shape == (1, 7)


@pytest.mark.parametrize(("preset", "minimum"), [("alexnet", 63), ("paper2012", 67), ("mini", 15)])
def test_too_small_input_names_the_minimum(preset, minimum):
    model = create_model(preset)
    assert model.min_input_size == minimum
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, minimum, minimum))
        with pytest.raises(ValueError, match=f"minimum image size is {minimum}x{minimum}"):
            model(torch.zeros(1, 3, minimum - 1, 200))


def test_dropout_zero_removes_dropout_and_keeps_indices():
    reference_keys = list(AlexNet().state_dict())
    model = AlexNet(dropout=0.0)
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())
    assert isinstance(model.classifier[0], nn.Identity)
    assert isinstance(model.classifier[3], nn.Identity)
    assert list(model.state_dict()) == reference_keys
    assert model.classifier[0] is not None and AlexNet(dropout=0.3).classifier[3].p == 0.3


def test_lrn_on_and_off():
    def lrns(model):
        return [m for m in model.modules() if isinstance(m, nn.LocalResponseNorm)]

    assert lrns(AlexNet()) == []
    model = AlexNet(lrn=True)
    found = lrns(model)
    assert len(found) == 2
    assert found[0] is model.features[1][1] and found[1] is model.features[4][1]
    assert (found[0].size, found[0].alpha, found[0].beta, found[0].k) == (5, 1e-4, 0.75, 2.0)
    assert list(model.state_dict()) == list(AlexNet().state_dict())


def test_non_overlapping_pooling():
    model = AlexNet(pooling="non_overlapping")
    pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 3 and all(p.kernel_size == 2 and p.stride == 2 for p in pools)
    overlapping = [m for m in AlexNet().features if isinstance(m, nn.MaxPool2d)]
    assert all(p.kernel_size == 3 and p.stride == 2 for p in overlapping)
    with torch.no_grad():
        assert model.eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_widths_and_hidden():
    model = AlexNet(num_classes=10, widths=(8, 16, 24, 32, 40), hidden=64)
    convs = [model.features[i] for i in CONV_INDICES.values()]
    assert [c.out_channels for c in convs] == [8, 16, 24, 32, 40]
    assert model.classifier[1].in_features == 40 * 36
    assert model.classifier[1].out_features == model.classifier[4].out_features == 64


def test_paper_init():
    torch.manual_seed(0)
    model = AlexNet(init="paper")
    for index in (0, 6):  # biases filled with constants: exact
        assert torch.all(model.features[index].bias == 0)
    for index in (3, 8, 10):
        assert torch.all(model.features[index].bias == 1)
    assert torch.all(model.classifier[1].bias == 1) and torch.all(model.classifier[4].bias == 1)
    assert torch.all(model.classifier[6].bias == 0)
    weights = model.classifier[1].weight
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.01, rel=0.01)
    default_std = AlexNet().classifier[1].weight.std().item()
    assert default_std == pytest.approx(1 / (9216 * 3) ** 0.5, rel=0.02)


def test_create_model_overrides_preset_knobs():
    model = create_model("paper2012", num_classes=10, lrn=False, activation="tanh", dropout=0.0)
    assert not any(
        isinstance(m, (nn.LocalResponseNorm, nn.ReLU, nn.Dropout)) for m in model.modules()
    )
    assert model.features[0].out_channels == 96 and model.classifier[6].out_features == 10


def test_seed_ablation_variant_is_the_same_model_with_knobs():
    # The seed's use_relu=False / use_dropout=False variant.
    model = create_model("alexnet", num_classes=10, activation="tanh", dropout=0.0)
    assert type(model) is AlexNet
    model.train()
    x = torch.randn(2, 3, 64, 64)
    # no dropout: deterministic in train mode; the same forward twice in this process on the
    # same input, so bit-identical
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu"])
def test_kaiming_init_keeps_the_signal_scale(activation):
    torch.manual_seed(0)
    model = AlexNet(num_classes=10, dropout=0.0, activation=activation, init="kaiming").eval()
    default = AlexNet(num_classes=10, dropout=0.0, activation=activation).eval()
    x = torch.randn(8, 3, 224, 224)
    with torch.no_grad():
        kaiming_std, default_std = model(x).std().item(), default(x).std().item()
    assert 0.1 < kaiming_std < 10  # the logits keep about the input's scale
    assert kaiming_std > 5 * default_std  # PyTorch's default shrinks it layer by layer
    assert all(
        float(m.bias.abs().max()) == 0
        for m in model.modules()
        if hasattr(m, "bias") and m.bias is not None
    )  # zero-initialized, never computed: exact
