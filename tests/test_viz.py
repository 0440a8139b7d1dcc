import pytest
import torch
from matplotlib.figure import Figure

from alexnet import create_model
from alexnet.viz import AlexNetVisualizer


@pytest.fixture(scope="module")
def visualizer():
    torch.manual_seed(0)
    return AlexNetVisualizer(create_model("alexnet", num_classes=10))


def test_plot_conv_filters_returns_and_saves_a_figure(visualizer, tmp_path):
    path = tmp_path / "filters.png"
    figure = visualizer.plot_conv_filters(layer_name="features.0", num_filters=16,
                                          figsize=(12, 8), path=path)
    assert isinstance(figure, Figure) and path.stat().st_size > 1000
    assert figure.axes[0].get_title() == "features.0: 16 of 64 filters"
    assert tuple(figure.get_size_inches()) == (12, 8)


def test_more_filters_than_the_layer_has_shows_all(visualizer):
    figure = visualizer.plot_conv_filters("conv1", num_filters=1000)
    assert figure.axes[0].get_title() == "conv1: 64 of 64 filters"
    deeper = visualizer.plot_conv_filters("conv5", num_filters=8)
    assert deeper.axes[0].get_title() == "conv5: 8 of 256 filters"


def test_plot_feature_maps(visualizer, tmp_path):
    image = torch.randn(3, 224, 224)
    figure = visualizer.plot_feature_maps(image, "conv2", title="conv2 maps", num_maps=12,
                                          path=tmp_path / "maps.png")
    assert figure.axes[0].get_title() == "conv2 maps"
    everything = visualizer.plot_feature_maps(image, "features.0", num_maps=500)
    assert everything.axes[0].get_title() == "features.0: 64 of 64 maps"
    assert visualizer.model.training  # the mode is restored


def test_unknown_layer_lists_the_valid_names(visualizer):
    with pytest.raises(ValueError, match=r"layer='conv9' is not valid; valid names: conv1, act1"):
        visualizer.plot_conv_filters("conv9")
    with pytest.raises(ValueError, match="valid names:.*features.0"):
        visualizer.plot_feature_maps(torch.randn(3, 224, 224), "nope")
    with pytest.raises(ValueError, match="not a conv layer; conv layers: conv1, conv2"):
        visualizer.plot_conv_filters("fc6")


@pytest.mark.parametrize("preset", ["alexnet", "paper2012", "mini"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "relu6", "leaky_relu", "elu",
                                        "gelu", "silu"])
def test_every_preset_and_activation(preset, activation):
    model = create_model(preset, num_classes=5, activation=activation)
    visualizer = AlexNetVisualizer(model)
    assert visualizer.plot_conv_filters("conv1", 8).axes
    assert visualizer.plot_feature_maps(torch.randn(3, 67, 67), "act3", num_maps=4).axes
