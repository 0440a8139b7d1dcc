"""The experiments that train: ablation, ReLU against tanh, dropout, at their tiny size.

Each runs a real `python train.py -m` sweep; the reports are read back from the files written.
"""

import json

import pytest

from alexnet.tables import read_csv
from tests.conftest import make_image_folder
from tests.experiments.conftest import load


@pytest.mark.slow
def test_ablation_sweep_table_chart_and_report_rerun(tmp_path):
    module = load("ablation")
    out = module.main(["--size", "tiny", "--out", str(tmp_path), "--target", "0.5"])
    rows = {r["arm"]: r for r in read_csv(out / "ablation.csv")}
    records = [json.loads(p.read_text()) for p in sorted((out / "sweep").glob("*/metrics.json"),
                                                         key=lambda p: int(p.parent.name))]
    assert list(rows) == list(module.ARMS)
    assert rows["full"]["activation"] == "relu" and float(rows["full"]["dropout"]) == 0.5
    assert rows["tanh"]["activation"] == "tanh"
    assert float(rows["no_dropout"]["dropout"]) == 0.0
    assert rows["tanh_no_dropout"]["activation"] == "tanh"
    assert float(rows["tanh_no_dropout"]["dropout"]) == 0.0
    assert rows["lrn"]["lrn"] == "True" and rows["full"]["lrn"] == "False"
    assert rows["non_overlapping_pool"]["pooling"] == "non_overlapping"
    assert rows["augment"]["augment"] == "paper" and rows["full"]["augment"] == "none"
    for row, record in zip(rows.values(), records):  # the table says what each run wrote
        assert record["choices"]["ablation"] == row["arm"]
        assert float(row["val_acc1"]) == record["metrics"]["val/acc1"]
        reached = [h["step"] for h in record["history"] if h["val/acc1"] >= 0.5]
        assert row["steps_to_val_acc1>=0.5"] == (str(reached[0]) if reached else "")
        assert int(row["epochs"]) == 2 and float(row["wall_time_s"]) == record["wall_time_s"]
    jobs = sorted(p for p in (out / "sweep").iterdir() if p.is_dir() and p.name.isdigit())
    assert len(jobs) == 7 and all(list((j / "tensorboard").glob("events.*")) for j in jobs)
    assert (out / "ablation.png").stat().st_size > 10_000
    # The report re-made from the sweep dir alone gives the same table.
    first = (out / "ablation.csv").read_text()
    (out / "ablation.csv").unlink()
    module.main(["--report", str(out), "--target", "0.5"])
    assert (out / "ablation.csv").read_text() == first


def test_epochs_to_target_error_interpolates():
    module = load("relu_vs_tanh")
    assert module.epochs_to([0.9, 0.5, 0.2], 0.25) == pytest.approx(2 + 0.25 / 0.3)
    assert module.epochs_to([0.2], 0.25) == pytest.approx(0.75 / 0.8)
    assert module.epochs_to([0.9, 0.8], 0.25) is None


@pytest.mark.slow
def test_relu_vs_tanh_on_synthetic_data(tmp_path):
    out = load("relu_vs_tanh").main(["--size", "tiny", "--out", str(tmp_path),
                                     "--target-error", "0.99"])
    rows = {r["activation"]: r for r in read_csv(out / "relu_vs_tanh.csv")}
    assert set(rows) == {"relu", "tanh"}
    assert all(int(r["epochs_run"]) == 2 for r in rows.values())
    relu, tanh = (float(rows[a]["epochs_to_0.99_train_error"]) for a in ("relu", "tanh"))
    for job in (out / "sweep").glob("*/metrics.json"):  # each figure from the run's own history
        record = json.loads(job.read_text())
        errors = [1 - h["train/acc1"] for h in record["history"]]
        activation = "relu" if "activation=relu" in record["overrides"] else "tanh"
        assert float(rows[activation]["epochs_to_0.99_train_error"]) == pytest.approx(
            load("relu_vs_tanh").epochs_to(errors, 0.99))
    ratio = (out / "ratio.txt").read_text()
    assert f"{tanh / relu:.2f}x" in ratio and "paper: 6x" in ratio
    assert (out / "relu_vs_tanh.png").is_file()


@pytest.mark.slow
def test_relu_vs_tanh_on_an_image_folder(tmp_path):
    images = make_image_folder(tmp_path / "images", classes=3, per_class=4)
    out = load("relu_vs_tanh").main(["--size", "tiny", "--out", str(tmp_path / "out"),
                                     "--data-root", str(images)])
    configs = [json.loads((j / "metrics.json").read_text())
               for j in (out / "sweep").glob("*") if (j / "metrics.json").is_file()]
    assert len(configs) == 2
    sources = {(out / "sweep" / d / "config.yaml").read_text().count("source: imagefolder")
               for d in ("0", "1")}
    assert sources == {1}
    assert len(read_csv(out / "relu_vs_tanh.csv")) == 2


@pytest.mark.slow
def test_dropout_mlp_and_alexnet(tmp_path):
    module = load("dropout")
    out = module.main(["--size", "tiny", "--out", str(tmp_path)])
    rows = read_csv(out / "dropout.csv")
    assert [(r["model"], float(r["dropout"])) for r in rows] == [
        ("MLP (seed demo)", 0.0), ("MLP (seed demo)", 0.5), ("AlexNet (mini)", 0.0),
        ("AlexNet (mini)", 0.5)]
    curves = read_csv(out / "mlp_curves.csv")
    assert len(curves) == 2 * 5
    # Accuracy is correct answers over the 2,000 test examples: a multiple of 1/2000.
    assert all(float(c["test_acc"]) * 2000 == pytest.approx(round(float(c["test_acc"]) * 2000))
               for c in curves)
    assert (out / "dropout.png").stat().st_size > 10_000
    first = (out / "dropout.csv").read_text()
    module.main(["--report", str(out)])
    assert (out / "dropout.csv").read_text() == first
