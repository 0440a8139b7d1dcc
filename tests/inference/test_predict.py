"""Predicting new images: the checkpoint's own preprocessing and class names, the same numbers
as evaluation, CSV and JSON Lines, unreadable files skipped and named, ImageNet's weights."""

import csv
import json
import logging

import pytest
import torch
from torchvision.transforms.v2.functional import to_pil_image

from alexnet.cli.predict import predict_files
from alexnet.config.compose import compose_config
from alexnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from alexnet.inference.predictions import Preprocessing
from alexnet.models import create_model
from alexnet.run.api import evaluate
from alexnet.run.trained import imagenet_names, load_checkpoint, load_trained
from tests.conftest import write_image
from tests.inference.conftest import CLASSES


def predict_cfg(tmp_path, *overrides):
    return compose_config(list(overrides), "predict", output_dir=tmp_path / "predict")


def read_csv(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.parametrize("crop", ["center", "ten_crop"])
def test_top1_over_a_split_equals_evaluations_acc1_image_by_image(trained_run, tmp_path, crop):
    val = trained_run.parent / "photos" / "val"
    out = predict_files(
        predict_cfg(tmp_path, f"ckpt_path={trained_run}", f"input={val}", f"data.eval_crop={crop}")
    )
    rows = read_csv(out)
    assert len(rows) == 5 * len(CLASSES)
    correct = sum(row["class_1"] == row["path"].split("/")[-2] for row in rows)
    eval_cfg = compose_config(
        [f"ckpt_path={trained_run}", "split=val", "trainer=cpu", f"data.eval_crop={crop}"],
        "eval",
        output_dir=tmp_path / "eval",
    )
    acc1 = evaluate(eval_cfg)["metrics"]["val/acc1"]
    assert correct / len(rows) == pytest.approx(acc1, abs=1e-6)
    # Image by image: the scores evaluation's own pipeline gives (the datamodule's val split).
    _, module, datamodule = load_checkpoint(str(trained_run), eval_cfg.data)
    datamodule.setup("validate")
    split = datamodule.datasets["val"]
    with torch.no_grad():
        images = torch.stack([split[i][0] for i in range(len(split))])
        flat = images.flatten(0, 1) if images.dim() == 5 else images
        probs = module.eval()(flat).softmax(-1)
        if images.dim() == 5:
            probs = probs.view(len(images), images.shape[1], -1).mean(1)
    paths = [path for path, _ in split.images.samples]
    by_path = {row["path"]: row for row in rows}
    for path, scores in zip(paths, probs):
        row = by_path[path]
        assert row["class_1"] == CLASSES[int(scores.argmax())]
        assert float(row["prob_1"]) == pytest.approx(float(scores.max()), abs=2e-6)


def test_jsonl_rows_rank_the_checkpoints_class_names(trained_run, tmp_path):
    out = tmp_path / "p.jsonl"
    photos = trained_run.parent / "photos"
    predict_files(
        predict_cfg(
            tmp_path, f"ckpt_path={trained_run}", f"input={photos}", "top_k=3", f"output={out}"
        )
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == (6 + 5) * len(CLASSES)  # recursive: train/ and val/
    for row in rows:
        ranked = row["top_k"]
        assert sorted(entry["class"] for entry in ranked) == sorted(CLASSES)
        assert [CLASSES[entry["index"]] for entry in ranked] == [e["class"] for e in ranked]
        probs = [entry["prob"] for entry in ranked]
        assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=1e-5)


def test_a_glob_picks_its_files_and_unreadable_ones_are_skipped_and_named(
    trained_run, tmp_path, caplog
):
    folder = tmp_path / "new"
    for index in range(3):
        write_image(folder / f"{index}.jpg", "RGB", (80, 80), 100 + index)
    (folder / "3.jpg").write_bytes(b"not a jpeg")
    write_image(folder / "4.jpg", "RGB", (400, 400), 7)  # over max_image_pixels below
    write_image(folder / "5.png", "RGB", (80, 80), 8)  # not matched by the glob
    with caplog.at_level(logging.WARNING):
        out = predict_files(
            predict_cfg(
                tmp_path,
                f"ckpt_path={trained_run}",
                f"input={folder}/*.jpg",
                "data.max_image_pixels=50000",
            )
        )
    assert [row["path"].split("/")[-1] for row in read_csv(out)] == ["0.jpg", "1.jpg", "2.jpg"]
    skipped = [r.getMessage() for r in caplog.records if "Skipped unreadable" in r.getMessage()]
    assert len(skipped) == 2 and "3.jpg" in skipped[0] and "4.jpg" in skipped[1]
    assert "decompression bomb" in skipped[1]


def test_imagenet_weights_use_imagenets_names_and_preprocessing(tmp_path, monkeypatch):
    import torchvision

    # torchvision's cache already holds the file (random weights): nothing is downloaded.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    cached.parent.mkdir(parents=True)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), cached)
    write_image(tmp_path / "photo.jpg", "RGB", (300, 240), 0)
    out = predict_files(
        predict_cfg(tmp_path, "model.weights=imagenet", f"input={tmp_path / 'photo.jpg'}")
    )
    (row,) = read_csv(out)
    names = imagenet_names()
    assert len(names) == 1000 and names[0] == "tench"
    assert {row[f"class_{rank}"] for rank in range(1, 6)} <= set(names)
    prep = Preprocessing.of(load_trained(None, "alexnet", "imagenet").datamodule, False)
    assert (prep.image_size, prep.resize_size) == (224, 256)
    assert prep.mean == IMAGENET_MEAN and prep.std == IMAGENET_STD


def test_synthetic_images_saved_at_their_size_go_through_as_evaluation_sees_them():
    # Synthetic validation images are drawn at the crop size and only normalized: a file of
    # that size must reach the model unchanged (up to the PNG's 8 bits), not resized and cut.
    from alexnet import AlexNetDataModule
    from alexnet.data.transforms import denormalize

    datamodule = AlexNetDataModule(
        num_classes=3, image_size=64, train_per_class=2, val_per_class=2, num_workers=0
    )
    datamodule.setup("validate")
    image, _ = datamodule.datasets["val"][0]
    pixels = denormalize(image.unsqueeze(0), datamodule.stats)[0].clamp(0, 1)
    saved = to_pil_image((pixels * 255).round().byte())
    again = Preprocessing.of(datamodule).transform()(saved)
    assert again.shape == image.shape
    assert (again - image).abs().max() < 0.5 / 255 / min(datamodule.stats[1]) + 1e-4


def test_a_weights_file_keeps_its_own_head_and_a_ckpt_its_own_settings(trained_run, tmp_path):
    torch.manual_seed(0)
    original = create_model("mini", num_classes=3).eval()
    torch.save(original.state_dict(), tmp_path / "mini3.pth")
    trained = load_trained(None, "mini", str(tmp_path / "mini3.pth"))
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(trained.model(images), original(images))  # not a fresh 10-class head
    best = json.loads((trained_run / "metrics.json").read_text())["best_checkpoint"]
    from_file = load_trained(None, "alexnet", best)  # one of ours, given as weights
    assert from_file.class_names == list(CLASSES) and from_file.about["checkpoint"] == best
    assert load_trained(str(trained_run), "alexnet", None).about["checkpoint"] == best  # the best


def test_a_folder_whose_name_looks_like_a_pattern_is_read_as_named(trained_run, tmp_path):
    folder = tmp_path / "shots [2023]"
    write_image(folder / "a.jpg", "RGB", (80, 80), 3)
    cfg = predict_cfg(tmp_path, f"ckpt_path={trained_run}", f"input='{folder}'")  # quoted for Hydra
    assert len(read_csv(predict_files(cfg))) == 1
