"""Exporting: every preset to ONNX with a dynamic batch axis, TorchScript and safetensors, each
checked against PyTorch before it is renamed into place, with a sidecar a consumer can use."""

import json

import numpy as np
import onnxruntime
import pytest
import torch

from alexnet.cli.export import export
from alexnet.config.compose import compose_config
from alexnet.inference.export import ExportMismatch, export_model
from alexnet.models import create_model, preset_names
from alexnet.models.presets import preset_knobs
from alexnet.run.trained import load_checkpoint
from tests.inference.conftest import CLASSES

# AlexNet's layout (the two towers and LRN of paper2012 too) at a fraction of its widths: the
# same graph to export in seconds; experiments/export_parity.py exports the full sizes.
NARROW = {"widths": (16, 32, 48, 48, 32), "hidden": 64}


def knobs(preset):
    return NARROW if preset in ("alexnet", "paper2012") else {}


def spec(preset, **given):
    every = {**preset_knobs(preset), **knobs(preset), "preset": preset, "num_classes": 5}
    return {"model": {**every, **given}}


def built(preset):
    torch.manual_seed(0)
    model = create_model(preset, num_classes=5, **knobs(preset)).eval()
    return model, max(model.min_input_size, 64)


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_exports_to_onnx_with_a_dynamic_batch(tmp_path, preset):
    model, size = built(preset)
    path = tmp_path / f"{preset}.onnx"
    parity = export_model(model, "onnx", path, size, spec(preset))
    assert parity.passed and parity.top1_agree == parity.batch == 4
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    images = torch.randn(7, 3, size, size)  # another batch size than the export's example
    with torch.no_grad():
        expected = model(images).numpy()
    np.testing.assert_allclose(
        session.run(None, {"images": images.numpy()})[0], expected, atol=1e-4
    )


@pytest.mark.parametrize("fmt", ["torchscript", "safetensors"])
@pytest.mark.parametrize("preset", ["paper2012", "mini"])
def test_torchscript_and_safetensors_reproduce_the_logits(tmp_path, preset, fmt):
    model, size = built(preset)
    path = tmp_path / f"model.{fmt}"
    parity = export_model(model, fmt, path, size, spec(preset))
    assert parity.passed and parity.largest_difference <= 1e-5
    card = json.loads((tmp_path / f"model.{fmt}.json").read_text())
    assert card["format"] == fmt and card["parity"]["top1_agree"] == 4


def test_a_mismatch_fails_and_leaves_no_file(tmp_path):
    # The weights of a tanh net, described to the consumer as relu: rebuilt, it differs.
    torch.manual_seed(0)
    model = create_model("mini", num_classes=5, activation="tanh").eval()
    with pytest.raises(ExportMismatch, match="safetensors: largest logit difference"):
        export_model(model, "safetensors", tmp_path / "m.safetensors", 64, spec("mini"))
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_exports_with_its_preprocessing_class_names_and_commit(trained_run, tmp_path):
    out = tmp_path / "model.onnx"
    cfg = compose_config(
        [f"ckpt_path={trained_run}", f"output={out}"], "export", output_dir=tmp_path / "run"
    )
    export(cfg)
    card = json.loads((tmp_path / "model.onnx.json").read_text())
    assert card["class_names"] == list(CLASSES)
    _, module, datamodule = load_checkpoint(str(trained_run))
    prep = card["preprocessing"]
    assert (prep["crop_size"], prep["resize_shorter_side"]) == (64, datamodule.resize_size)
    assert prep["mean"] == list(datamodule.stats[0]) and prep["std"] == list(datamodule.stats[1])
    assert card["model"]["preset"] == "mini" and card["model"]["num_classes"] == 3
    assert card["training_commit"] and card["source"]["checkpoint"].endswith(".ckpt")
    assert card["input"]["shape"] == ["batch", 3, 64, 64]
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        expected = module.eval()(images).numpy()
    np.testing.assert_allclose(
        session.run(None, {"images": images.numpy()})[0], expected, atol=1e-4
    )
