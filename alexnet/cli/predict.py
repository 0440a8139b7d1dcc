"""`alexnet-predict ...` (python predict.py, python -m alexnet predict): the top-k classes of
image files under a trained model, written as CSV or JSON Lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import torch
from omegaconf import DictConfig

from alexnet.errors import InvalidValue
from alexnet.inference.inputs import image_paths
from alexnet.inference.predictions import Prediction, Preprocessing, check_top_k, predict
from alexnet.inference.rows import check_output, write_rows
from alexnet.run.trained import load_trained

log = logging.getLogger(__name__)


def predict_files(cfg: DictConfig) -> Path:
    """Predict `cfg.input`'s images with `cfg.ckpt_path` (or `cfg.model`'s weights) into
    `cfg.output`; every setting is checked before the first image is read."""
    out = check_output(Path(cfg.output or default_output(cfg, "predictions.csv")))
    paths = image_paths(cfg.input)
    weights = cfg.model.get("weights")
    trained = load_trained(cfg.get("ckpt_path"), cfg.model.preset, weights, cfg.data)
    log.info("Model: %s", trained.about.get("checkpoint") or trained.about.get("weights"))
    top_k = min(5, len(trained.class_names)) if cfg.top_k is None else cfg.top_k
    check_top_k(top_k, len(trained.class_names))
    device = pick_device(cfg.device)
    datamodule = trained.datamodule
    preprocessing = Preprocessing.of(datamodule, "checkpoint" in trained.about)
    log.info(
        "Predicting %d files on %s: %d px (%s crop from %d px), mean %s, std %s",
        len(paths),
        device,
        preprocessing.image_size,
        preprocessing.eval_crop,
        preprocessing.resize_size,
        list(preprocessing.mean),
        list(preprocessing.std),
    )
    skipped: list[Path] = []
    predictions = predict(
        trained.model,
        paths,
        preprocessing,
        trained.class_names,
        top_k,
        datamodule.batch_size,
        datamodule.num_workers,
        device,
        skipped=skipped,
        timeout_s=datamodule.loader_timeout_s,
    )
    rows = write_rows(_some(predictions, cfg.input, len(paths)), out)
    log.info("Predictions: %s (%d images, %d unreadable skipped)", out, rows, len(skipped))
    return out


def default_output(cfg: DictConfig, name: str) -> Path:
    """`name` in the run dir (made here when the command runs outside Hydra)."""
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir / name


def pick_device(device: str) -> str:
    """``auto`` (a GPU when there is one), ``cpu``, ``cuda`` or ``cuda:N``, ``mps``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    kind, _, index = str(device).partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not (kind == "cuda" and index.isdigit())):
        raise InvalidValue("device", device, "choose one of: auto, cpu, cuda, cuda:N, mps")
    if kind == "cuda" and int(index or 0) >= torch.cuda.device_count():
        found = torch.cuda.device_count()
        raise InvalidValue("device", device, f"this machine has {found} CUDA GPU(s); use cpu")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise InvalidValue("device", device, "MPS is not available here; use device=cpu")
    return str(device)


def _some(predictions: Iterator[Prediction], spec: str, count: int) -> Iterator[Prediction]:
    """The predictions; none at all (every file unreadable) is an error, and no file."""
    made = 0
    for prediction in predictions:
        made += 1
        yield prediction
    if not made:
        raise InvalidValue("input", spec, f"none of its {count} image files could be read")
