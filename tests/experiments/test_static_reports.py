"""The experiments that need no training: architecture, activations, lr schedules, legacy."""

import pytest

from alexnet.tables import read_csv
from tests.experiments.conftest import load


def test_architecture_tables_and_reduction(tmp_path):
    out = load("architecture").main(["--out", str(tmp_path)])
    assert {p.name for p in out.iterdir()} >= {
        "architecture_alexnet.md",
        "architecture_alexnet.csv",
        "architecture_paper2012.csv",
        "architecture_mini.csv",
        "presets.md",
        "presets.csv",
        "layers.png",
    }
    presets = {r["preset"]: r for r in read_csv(out / "presets.csv")}
    assert int(presets["alexnet"]["params"]) == 61_100_840
    assert int(presets["paper2012"]["params"]) == 60_965_224
    assert int(presets["mini"]["params"]) == 2_494_794  # the notebook's, with its 10 classes
    assert float(presets["mini"]["params_reduction_vs_alexnet"]) == pytest.approx(24.49, abs=0.01)
    assert float(presets["alexnet"]["GFLOPs"]) == pytest.approx(1.43, abs=0.01)
    paper = read_csv(out / "architecture_paper2012.csv")
    assert next(r for r in paper if r["alias"] == "conv1")["output"] == "96x55x55"
    assert paper[-1]["layer"] == "total" and int(paper[-1]["params"]) == 60_965_224


def test_activations_table_and_figure(tmp_path):
    out = load("activations").main(["--out", str(tmp_path)])
    table = {r["activation"]: r for r in read_csv(out / "activations.csv")}
    assert list(table) == ["relu", "tanh", "sigmoid", "relu6", "leaky_relu", "elu", "gelu", "silu"]
    assert float(table["sigmoid"]["f'(2)"]) == pytest.approx(0.105, abs=5e-4)
    assert float(table["sigmoid"]["f(2)"]) == pytest.approx(0.8808, abs=1e-4)
    assert float(table["tanh"]["f'(2)"]) == pytest.approx(0.0707, abs=1e-4)
    assert float(table["relu"]["f'(2)"]) == 1.0  # ReLU's gradient is exactly 1 for x > 0
    saturates = "saturates (f' within ±0.05)"
    assert table["relu"][saturates] == "x < 0"
    assert table["sigmoid"][saturates] == "x < -2.89 and x > 2.89"
    assert table["relu6"][saturates].endswith("x > 6.00")
    assert (out / "activations.png").stat().st_size > 10_000


def test_lr_schedules_follow_the_schedule_configs(tmp_path):
    out = load("lr_schedules").main(["--out", str(tmp_path), "--steps-per-epoch", "2"])
    rows = read_csv(out / "lr_schedules.csv")
    table = {
        r["schedule"]: {k: float(v) for k, v in r.items() if k.startswith("epoch")} for r in rows
    }
    driven = {r["schedule"]: r["driven_by"] for r in rows}
    assert driven["plateau"] == "a simulated validation accuracy (no training run)"
    assert driven["cosine"] == "the epoch (and step) count"
    assert set(table) == {
        "constant",
        "step",
        "multistep",
        "cosine",
        "exponential",
        "plateau",
        "warmup+cosine",
    }
    # The schedules are Python float arithmetic (no tensor kernels), written with repr: equal
    # to the decimal values up to products like 0.01 * 0.1 = 0.0010000000000000002.
    assert table["constant"]["epoch 89"] == pytest.approx(0.01, rel=1e-9)
    assert table["step"]["epoch 30"] == pytest.approx(1e-3, rel=1e-9)  # step_size 30, gamma 0.1
    assert table["multistep"]["epoch 89"] == pytest.approx(1e-5, rel=1e-9)  # at 30, 60, 80
    assert table["exponential"]["epoch 1"] == pytest.approx(0.0095, rel=1e-9)
    assert table["cosine"]["epoch 89"] < 1e-5
    assert table["warmup+cosine"]["epoch 0"] == pytest.approx(1e-4, rel=1e-9)  # 0.01 x 0.01
    assert table["plateau"]["epoch 89"] < table["plateau"]["epoch 0"]  # it divided by 10
    assert (out / "lr_schedules.png").is_file()


def test_legacy_table_has_a_source_for_every_number(tmp_path):
    module = load("legacy")
    out = module.main(["--out", str(tmp_path)])
    rows = {r["model"]: r for r in read_csv(out / "legacy.csv")}
    assert list(rows) == ["AlexNet", "VGG-16", "ResNet-50", "EfficientNet-B0", "ViT-B/16"]
    # numbers copied from the data file, not computed
    assert float(rows["AlexNet"]["params_M"]) == 61.1
    assert float(rows["AlexNet"]["top1_error_pct"]) == pytest.approx(43.48, abs=1e-9)
    for entry in read_csv(module.DATA):
        assert entry["source_year_depth"] and entry["source_accuracy"].startswith("https://")
    assert (out / "legacy.png").is_file()


def test_legacy_rejects_a_parameter_count_that_does_not_match(tmp_path):
    module = load("legacy")
    text = module.DATA.read_text().replace("61100840", "60000000")
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    with pytest.raises(ValueError, match="AlexNet params=60000000 but .*alexnet has 61100840"):
        module.main(["--out", str(tmp_path / "out"), "--data", str(bad)])
