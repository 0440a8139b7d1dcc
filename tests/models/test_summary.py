import pytest

from alexnet import create_model, summarize


def test_alexnet_summary_at_224():
    summary = summarize(create_model("alexnet"), 224)
    assert summary.params == summary.trainable == 61_100_840
    assert summary.flops == pytest.approx(1.43e9, rel=0.005)
    rows = {row.alias: row for row in summary.rows if row.alias}
    assert rows["conv1"].output_shape == (64, 55, 55)
    assert rows["conv1"].params == 64 * 3 * 11 * 11 + 64
    assert rows["conv1"].flops == 2 * 64 * 3 * 11 * 11 * 55 * 55
    assert rows["pool5"].output_shape == (256, 6, 6)
    assert rows["fc8"].output_shape == (1000,)
    assert sum(row.params for row in summary.rows) == summary.params
    assert sum(row.flops for row in summary.rows) == summary.flops
    # integer arithmetic divided by a power of two in Python: no kernels, no rounding to speak of
    assert summary.mebibytes == pytest.approx(61_100_840 * 4 / 2**20, rel=1e-12)


def test_paper2012_summary_at_227_and_frozen_layers():
    model = create_model("paper2012")
    for param in model.features.parameters():
        param.requires_grad_(False)
    summary = summarize(model, 227)
    assert summary.params == 60_965_224
    assert summary.trainable == 60_965_224 - sum(p.numel() for p in model.features.parameters())
    conv1 = summary.rows[0]
    assert (conv1.name, conv1.alias, conv1.output_shape) == ("features.0", "conv1", (96, 55, 55))
    assert summary.rows[1].kind == "ReLU+LocalResponseNorm"


def test_summary_keeps_the_model_mode_and_tables_render():
    model = create_model("mini", num_classes=10).train()
    summary = summarize(model, (96, 128))
    assert model.training
    assert summary.input_shape == (3, 96, 128)
    text, markdown = summary.to_text(), summary.to_markdown()
    assert text.splitlines()[0].split()[:4] == ["layer", "alias", "type", "output"]
    assert text.splitlines()[-1].startswith("total") and f"{summary.params:,}" in text
    assert markdown.splitlines()[1].startswith("| --- |")
    assert len(markdown.splitlines()) == len(summary.rows) + 3
