"""`alexnet-interpret ...` (python -m experiments.interpret): load a checkpoint or weights, write
the report."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from alexnet.data import AlexNetDataModule
from alexnet.errors import InvalidValue
from alexnet.models import create_model
from alexnet.models.weights import IMAGENET, load_weights
from alexnet.run.setup import fit_to_model, load_checkpoint
from alexnet.viz.report import ReportSettings, write_report

log = logging.getLogger(__name__)


def interpret(cfg: DictConfig) -> Path:
    """Write the report of `cfg.ckpt_path`, or of `cfg.model.preset` with `cfg.model.weights`,
    into the run dir; returns the index page."""
    settings = ReportSettings(**OmegaConf.to_container(cfg.report, resolve=True))
    settings.check()
    if cfg.get("ckpt_path"):
        path, module, datamodule = load_checkpoint(cfg.ckpt_path, cfg.data)
        model, about = module.model, {"checkpoint": str(path.resolve())}
    elif cfg.model.get("weights"):
        model, datamodule, about = _with_weights(cfg)
    else:
        raise InvalidValue(
            "ckpt_path",
            None,
            "set ckpt_path=<checkpoint or run dir>, or model.weights=imagenet|<file>",
        )
    datamodule.setup()
    out = Path(cfg.paths.output_dir)
    about["data"] = f"{datamodule.source} ({datamodule.image_size} px, split {settings.split})"
    write_report(model, datamodule, out, settings, about)
    log.info("Report: %s", out / "index.html")
    return out / "index.html"


def _with_weights(cfg: DictConfig) -> tuple[torch.nn.Module, AlexNetDataModule, dict[str, Any]]:
    weights, preset = str(cfg.model.weights), cfg.model.preset
    given = {
        k: v for k, v in OmegaConf.to_container(cfg.data, resolve=True).items() if v is not None
    }
    datamodule = AlexNetDataModule(**given)
    classes = 1000 if weights == IMAGENET else datamodule.num_classes
    model = create_model(preset, num_classes=classes)
    info = load_weights(model, weights, preset=preset, log=log)
    fit_to_model(datamodule, model.min_input_size, {**info, "source": weights})
    return model, datamodule, {"model": preset, "weights": weights}
