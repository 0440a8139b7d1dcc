import sys

import pytest

from alexnet.cli import describe
from alexnet.cli.describe import render
from alexnet.config.compose import compose_config, model_from_config
from alexnet.models import activation_names, preset_names


def compose_describe(*overrides: str):
    return compose_config(overrides, config_name="describe")


def test_command_prints_the_paper2012_table_at_227(monkeypatch, capsys):
    # In this process: the table it prints (a real process's exit code: further down)
    monkeypatch.setattr(sys, "argv", ["describe", "model=paper2012", "image_size=227"])
    describe.command()  # completes: no SystemExit
    shown = capsys.readouterr().out
    assert "60,965,224 parameters" in shown
    conv1 = next(line for line in shown.splitlines() if line.startswith("features.0"))
    assert conv1.split()[:4] == ["features.0", "conv1", "Conv2d", "96x55x55"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["dropout.p=1.5"],
            "error: dropout.p=1.5 is not valid; it must be a probability in [0, 1)",
        ),
        (
            ["model.pooling=max"],
            "error: model.pooling='max' is not valid; choose one of: overlapping, non_overlapping",
        ),
        (
            ["image_size=32"],
            "error: image_size=32 is not valid; it is too small for model=alexnet; "
            "the minimum is 63",
        ),
    ],
)
def test_bad_values_get_one_line_and_nothing_printed(monkeypatch, capsys, overrides, message):
    # In this process (the exit code and stderr of a real one: the next test)
    monkeypatch.setattr(sys, "argv", ["describe", *overrides])
    with pytest.raises(SystemExit) as stopped:
        describe.command()
    assert stopped.value.code == message  # a message: printed to stderr, exit status 1
    assert capsys.readouterr().out == ""


def test_unknown_group_option_lists_the_valid_ones(run_script):
    result = run_script("-m", "alexnet.cli.describe", "activation=swish")
    assert result.returncode != 0
    assert result.stderr.strip().startswith(
        "error: activation='swish' is not valid; choose one of: "
    )
    assert all(name in result.stderr for name in activation_names())


@pytest.mark.parametrize("preset", preset_names())
@pytest.mark.parametrize("activation", activation_names())
def test_every_model_and_activation_option_composes(preset, activation):
    cfg = compose_describe(f"model={preset}", f"activation={activation}", "dropout=none")
    model = model_from_config(cfg, num_classes=3)
    assert model.classifier[-1].out_features == 3
    assert (
        type(model.features[7]).__name__.lower().replace("_", "")
        == {
            "relu": "relu",
            "tanh": "tanh",
            "sigmoid": "sigmoid",
            "relu6": "relu6",
            "leaky_relu": "leakyrelu",
            "elu": "elu",
            "gelu": "gelu",
            "silu": "silu",
        }[activation]
    )


def test_knob_overrides_reach_the_model():
    cfg = compose_describe(
        "model.lrn=true",
        "model.pooling=non_overlapping",
        "model.hidden=128",
        "model.widths=[32,64,96,64,64]",
        "activation=leaky_relu",
        "activation.params.negative_slope=0.3",
        "dropout.p=0.25",
    )
    model = model_from_config(cfg, num_classes=4)
    assert model.features[1][1].size == 5 and model.features[2].kernel_size == 2
    assert model.classifier[4].out_features == 128 and model.features[10].out_channels == 64
    assert model.features[1][0].negative_slope == 0.3 and model.classifier[0].p == 0.25


def test_markdown_format():
    text = render(compose_describe("model=mini", "format=markdown", "image_size=96"))
    assert "| features.0 | conv1 | Conv2d | 32x47x47 |" in text
    assert "| classifier.1 | fc4 | Linear | 512 | 2,359,808 |" in text
