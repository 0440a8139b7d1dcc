"""`alexnet-export ...` (python export.py, python -m alexnet export): a trained model as ONNX,
TorchScript or safetensors, checked against PyTorch, with a sidecar JSON for its consumers."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from alexnet.cli.predict import default_output
from alexnet.errors import check_choice, check_int, check_number
from alexnet.inference.export import FORMATS, INPUT, OUTPUT, export_model
from alexnet.inference.predictions import Preprocessing
from alexnet.inference.rows import check_output
from alexnet.run.trained import Trained, load_trained

log = logging.getLogger(__name__)
NEEDS = {"onnx": ("onnx", "onnxscript", "onnxruntime"), "safetensors": ("safetensors",)}


def export(cfg: DictConfig) -> Path:
    """Export `cfg.ckpt_path` (or `cfg.model`'s weights) as `cfg.format` to `cfg.output`."""
    fmt = cfg.format
    check_choice("format", fmt, FORMATS)
    out = check_output(Path(cfg.output or default_output(cfg, f"model{FORMATS[fmt]}")), None)
    check_int("check.batch", cfg.check.batch, minimum=2)  # two: the batch axis is dynamic
    check_number("check.tolerance", cfg.check.tolerance, 0, None, low_open=True)
    versions = _needed(fmt)
    weights = cfg.model.get("weights")
    trained = load_trained(cfg.get("ckpt_path"), cfg.model.preset, weights, cfg.data)
    size = trained.datamodule.image_size
    parity = export_model(
        trained.model,
        fmt,
        out,
        size,
        sidecar(trained, versions),
        cfg.check.batch,
        cfg.check.tolerance,
    )
    log.info("Exported %s; parity %s", out, parity.line(fmt))
    return out


def sidecar(trained: Trained, versions: dict[str, str]) -> dict[str, Any]:
    """What a consumer of the exported model needs: its input and output, the preprocessing, the
    class names, the model's preset and knobs, where it came from."""
    prep = Preprocessing.of(trained.datamodule, "checkpoint" in trained.about)
    size, classes = prep.image_size, len(trained.class_names)
    about = trained.about
    return {
        "input": {"name": INPUT, "shape": ["batch", 3, size, size], "dtype": "float32"},
        "output": {"name": OUTPUT, "shape": ["batch", classes], "is": "logits (softmax: probs)"},
        "preprocessing": {
            "image": "RGB, upright by EXIF orientation, pixels scaled to [0, 1]",
            "resize_shorter_side": prep.resize_size,
            "crop": prep.eval_crop,  # ten_crop: average the softmax of the ten crops
            "crop_size": size,
            "mean": list(prep.mean),
            "std": list(prep.std),
        },
        "class_names": trained.class_names,
        "model": about["model"],
        "source": {k: about[k] for k in ("checkpoint", "weights") if k in about},
        "training_commit": about.get("commit"),
        "lab_version": about.get("lab_version"),
        "exported_with": {"torch": torch.__version__, **versions},
    }


def _needed(fmt: str) -> dict[str, str]:
    """The versions of what `fmt` needs; a missing package is one line saying how to add it."""
    versions = {}
    for name in NEEDS.get(fmt, ()):
        try:
            versions[name] = importlib.import_module(name).__version__
        except ImportError:
            raise ImportError(
                f"format={fmt} needs {name}: pip install 'alexnet-lab[export]'"
            ) from None
    return versions
