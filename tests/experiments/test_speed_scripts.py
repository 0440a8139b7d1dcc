"""The speed scripts run end to end at tiny sizes and print every row (no timing is asserted)."""

import csv
import re

import pytest

from tests.experiments.conftest import load


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the markdown tables in `text`, as cells."""
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return [
        [cell.strip() for cell in row]
        for row in rows
        if not row[0].strip().startswith(("precision", "pipeline", "setting", "---"))
    ]


@pytest.mark.slow
def test_benchmark_prints_every_row(capsys):
    # Every row, at the smallest sizes: 2 timed blocks, 50 ms matmul windows.
    load("benchmark").main(
        [
            "--image-size",
            "64",
            "--batches",
            "2",
            "--steps",
            "2",
            "--warmup",
            "0",
            "--workers",
            "1",
            "--force-bf16",
            "--matmul-sizes",
            "64",
            "128",
            "--matmul-window-s",
            "0.05",
        ]
    )
    out = capsys.readouterr().out
    rows = table_rows(out)
    training = [r for r in rows if r[0] in ("fp32", "bf16-mixed")]
    assert [(r[0], r[1]) for r in training] == [
        ("fp32", "contiguous"),
        ("fp32", "contiguous"),
        ("fp32", "channels_last"),
        ("bf16-mixed", "contiguous"),
        ("bf16-mixed", "channels_last"),
    ]
    assert training[0][4].startswith("(plain again)")
    for row in training:
        plain, ratio = float(row[3]), float(row[5])
        assert plain > 0 and 0.2 < ratio < 5
    assert re.search(r"matmul peak: fp32 \d+ GFLOP/s, bf16 \d+ GFLOP/s", out)
    pipelines = [r[0] for r in rows if r[0].startswith(("synthetic", "ImageFolder"))]
    assert pipelines == ["synthetic", "ImageFolder JPEG (paper augmentation)"]


@pytest.mark.slow
def test_loader_settings_prints_every_setting(capsys):
    module = load("loader_settings")
    module.main(
        [
            "--sources",
            "synthetic",
            "--epochs",
            "2",
            "--repeats",
            "1",
            "--train-per-class",
            "4",
            "model=mini",
            "data.image_size=64",
            "data.batch_size=8",
        ]
    )
    rows = table_rows(capsys.readouterr().out)
    assert [r[0] for r in rows] == [label for label, _ in module.SETTINGS["synthetic"]]
    default = float(rows[0][1])
    for _label, rate, ratio in rows:  # each ratio is that row's rate over the default row's
        assert float(rate) > 0
        assert float(ratio) == pytest.approx(float(rate) / default, rel=0.02, abs=0.002)


def test_data_path_compares_each_cache_setting_with_the_model_alone(tmp_path):
    from alexnet.tables import read_csv

    out = load("data_path").main(
        [
            "--image-size",
            "64",
            "--epochs",
            "2",
            "--rounds",
            "1",
            "--train-per-class",
            "6",
            "--preset",
            "mini",
            "--out",
            str(tmp_path),
        ]
    )
    rows = read_csv(out / "data_path.csv")
    assert [r["data path"] for r in rows] == ["before: data.cache=false", "after: data.cache=true"]
    for row in rows:
        ratio = float(row["end-to-end / model-only"])
        assert float(row["model-only img/s"]) > 0 and 0.05 < ratio < 20
        assert ratio == pytest.approx(
            float(row["end-to-end img/s"]) / float(row["model-only img/s"]), rel=0.01
        )
    assert (out / "provenance.json").is_file()


def test_image_decoders_compares_every_decoder_on_both_paths(tmp_path):
    # TorchCodec is in the dev extra: without it the table would lack its rows and this fails.
    out = load("image_decoders").main(
        ["--images", "16", "--rounds", "1", "--batch", "8", "--out", str(tmp_path)]
    )
    with (out / "image_decoders.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["path"], row["decoder"]) for row in rows] == [
        ("loader", "PIL (today)"),
        ("loader", "torchvision.io (today's device path)"),
        ("device", "torchvision.io batch on cpu"),
        ("loader", "torchcodec"),
        ("device", "torchcodec batch on cpu"),
    ]
    for row in rows:
        assert float(row["img/s"]) > 0
        assert int(row["max abs diff vs PIL"]) <= 3, row  # the same JPEG, within 3 of 255 levels
    assert [row["vs today"] for row in rows if row["decoder"] in ("PIL (today)",)] == ["1.0"]
    assert "TorchCodec: installed" in (out / "notes.md").read_text()
    assert (out / "provenance.json").is_file()


def test_predict_speed_times_both_paths_on_the_same_files(tmp_path):
    out = load("predict_speed").main(
        ["--images", "8", "--rounds", "2", "--batch", "4", "--preset", "mini", "--size", "64"]
        + ["--workers", "0", "--out", str(tmp_path)]
    )
    with (out / "predict_speed.csv").open() as stream:
        rows = {row["path"]: row for row in csv.DictReader(stream)}
    assert set(rows) == {"plain PyTorch loop", "alexnet-predict"}
    for row in rows.values():
        assert len(row["rounds"].split(", ")) == 2 and float(row["img/s (median)"]) > 0
    assert float(rows["alexnet-predict"]["ratio to plain (median of paired rounds)"]) > 0
    assert sorted(p.name for p in out.iterdir()) == [
        "predict_speed.csv",
        "predict_speed.md",
        "provenance.json",
    ]
