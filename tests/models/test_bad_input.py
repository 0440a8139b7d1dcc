import pytest

from alexnet import AlexNet, create_model


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"activation": "swish"}, r"activation='swish' is not valid; choose one of: relu, tanh"),
        (
            {"pooling": "avg"},
            r"pooling='avg' is not valid; choose one of: overlapping, "
            r"non_overlapping",
        ),
        ({"init": "xavier"}, r"init='xavier' is not valid; choose one of: default, paper"),
        ({"dropout": 1.0}, r"dropout=1.0 is not valid; it must be a probability in \[0, 1\)"),
        ({"dropout": -0.1}, r"dropout=-0.1 is not valid"),
        ({"dropout": True}, r"dropout=True is not valid"),
        (
            {"widths": (64, 0, 384, 256, 256)},
            r"widths=\[64, 0, 384, 256, 256\] is not valid; it must"
            r" be 5 positive integers",
        ),
        ({"widths": (64, 192)}, r"widths=\[64, 192\] is not valid"),
        ({"hidden": 0}, r"hidden=0 is not valid; it must be an integer >= 1"),
        ({"hidden": -5}, r"hidden=-5 is not valid"),
        ({"num_classes": 0}, r"num_classes=0 is not valid"),
        ({"groups": 0}, r"groups=0 is not valid"),
        ({"groups": 5}, r"groups=5 is not valid; every conv width must be a multiple of it"),
        ({"lrn": "yes"}, r"lrn='yes' is not valid; it must be true or false"),
        ({"conv1_padding": -1}, r"conv1_padding=-1 is not valid; it must be an integer >= 0"),
    ],
)
def test_bad_knob_names_argument_value_and_choices(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        AlexNet(**kwargs)


def test_unknown_preset_lists_the_presets():
    with pytest.raises(
        ValueError,
        match=r"name='vgg' is not valid; choose one of: alexnet, "
        r"paper2012, mini",
    ):
        create_model("vgg")


def test_unknown_knob_lists_the_knobs():
    with pytest.raises(
        ValueError,
        match=r"knob='use_relu' is not valid; the alexnet preset "
        r"\(AlexNet\) has no such knob; its knobs: dropout, "
        r"activation, activation_params, lrn, lrn_scale, pooling",
    ):
        create_model("alexnet", use_relu=False)


def test_bad_dropout_placement_lists_the_placements():
    with pytest.raises(
        ValueError,
        match=r"dropout_placement='fc8' is not valid; choose one of: "
        r"torchvision, paper",
    ):
        AlexNet(dropout_placement="fc8")
