import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

from alexnet import create_model
from alexnet.record import write_record
from alexnet.viz import AlexNetVisualizer
from alexnet.viz.display import in_notebook


@pytest.fixture(scope="module")
def visualizer():
    torch.manual_seed(0)
    return AlexNetVisualizer(create_model("alexnet", num_classes=10))


def test_plot_conv_filters_returns_and_saves_a_figure(visualizer, tmp_path):
    path = tmp_path / "filters.png"
    figure = visualizer.plot_conv_filters(
        layer_name="features.0", num_filters=16, figsize=(12, 8), path=path
    )
    assert isinstance(figure, Figure) and path.stat().st_size > 1000
    assert figure.axes[0].get_title() == "features.0: 16 of 64 filters"
    assert tuple(figure.get_size_inches()) == (12, 8)  # exact: the size as typed


def test_more_filters_than_the_layer_has_shows_all(visualizer):
    figure = visualizer.plot_conv_filters("conv1", num_filters=1000)
    assert figure.axes[0].get_title() == "conv1: 64 of 64 filters"
    deeper = visualizer.plot_conv_filters("conv5", num_filters=8)
    assert deeper.axes[0].get_title() == "conv5: 8 of 256 filters"


def test_plot_feature_maps(visualizer, tmp_path):
    image = torch.randn(3, 224, 224)
    figure = visualizer.plot_feature_maps(
        image, "conv2", title="conv2 maps", num_maps=12, path=tmp_path / "maps.png"
    )
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


# The network class (its layer names and widths) and paper2012's two towers change the path;
# the activation does not (the extractor copies outputs before in-place ones:
# tests/models/test_inspect.py). Grids: each kernel upscaled x4 plus 2 px padding, 16 a row.
@pytest.mark.parametrize(
    ("preset", "conv1", "grid", "act3"),
    [
        ("alexnet", 64, (2 + 4 * 46, 2 + 16 * 46), 384),  # 11x11 kernels
        ("paper2012", 96, (2 * (2 + 3 * 46) + 6, 2 + 16 * 46), 384),  # 2 towers of 48, 6 px apart
        ("mini", 32, (2 + 2 * 30, 2 + 16 * 30), 128),  # 7x7 kernels
        ("four_layer", 32, (2 + 2 * 22, 2 + 16 * 22), 64),  # 5x5 kernels
    ],
)
def test_every_network_class(preset, conv1, grid, act3):
    visualizer = AlexNetVisualizer(create_model(preset, num_classes=5))
    filters = visualizer.plot_conv_filters("conv1", num_filters=1000)
    assert filters.axes[0].get_title() == f"conv1: {conv1} of {conv1} filters"
    assert filters.axes[0].get_images()[0].get_array().shape == (*grid, 3)  # an RGB grid
    maps = visualizer.plot_feature_maps(torch.randn(3, 67, 67), "act3", num_maps=4)
    assert maps.axes[0].get_title() == f"act3: 4 of {act3} maps"


def test_figures_never_reach_pyplot_outside_a_notebook(visualizer, tmp_path):
    assert not in_notebook()
    before = plt.get_fignums()
    for layer in ("conv1", "conv2", "conv3"):
        visualizer.plot_conv_filters(layer, 4)
        visualizer.plot_feature_maps(torch.randn(3, 80, 80), layer, num_maps=4)
    assert plt.get_fignums() == before  # nothing registered, nothing to pop up or leak


def test_training_curves_of_run_dirs(tmp_path):
    history = [
        {
            "epoch": e,
            "step": 10 * (e + 1),
            "train/loss": 2.0 - e,
            "train/acc1": 0.1 * e,
            "val/loss": 2.1 - e,
            "val/acc1": 0.2 * e,
        }
        for e in range(3)
    ]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_record(tmp_path / name, {"status": "completed", "history": history})
    figure = AlexNetVisualizer.plot_training_curves(tmp_path / "a", path=tmp_path / "c.png")
    loss, accuracy = figure.axes
    assert [line.get_label() for line in loss.get_lines()] == ["train", "val"]
    assert list(loss.get_lines()[0].get_xdata()) == [1, 2, 3]  # epochs counted from 1
    assert list(loss.get_lines()[1].get_ydata()) == pytest.approx([2.1, 1.1, 0.1], abs=1e-12)
    assert list(accuracy.get_lines()[1].get_ydata()) == pytest.approx([0.0, 0.2, 0.4], abs=1e-12)
    assert (tmp_path / "c.png").stat().st_size > 1000
    both = AlexNetVisualizer().plot_training_curves(
        [tmp_path / "a", tmp_path / "b"], labels=["relu", "tanh"]
    )
    assert [line.get_label() for line in both.axes[0].get_lines()] == [
        "relu train",
        "relu val",
        "tanh train",
        "tanh val",
    ]


def test_training_curves_of_a_dir_without_a_record(tmp_path):
    with pytest.raises(ValueError, match=r"run_dir='.*' is not valid; it has no metrics.json"):
        AlexNetVisualizer.plot_training_curves(tmp_path)
    write_record(tmp_path, {"status": "failed", "history": []})
    with pytest.raises(ValueError, match="no per-epoch history"):
        AlexNetVisualizer.plot_training_curves(tmp_path)
