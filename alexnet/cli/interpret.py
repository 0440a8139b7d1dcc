"""`alexnet-interpret ...` (python -m experiments.interpret): load a checkpoint or weights, write
the report."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from alexnet.run.trained import load_trained
from alexnet.viz.report import ReportSettings, write_report

log = logging.getLogger(__name__)


def interpret(cfg: DictConfig) -> Path:
    """Write the report of `cfg.ckpt_path`, or of `cfg.model.preset` with `cfg.model.weights`,
    into the run dir; returns the index page."""
    settings = ReportSettings(**OmegaConf.to_container(cfg.report, resolve=True))
    settings.check()
    trained = load_trained(
        cfg.get("ckpt_path"), cfg.model.preset, cfg.model.get("weights"), cfg.data
    )
    model, datamodule = trained.model, trained.datamodule
    about = (
        {"checkpoint": trained.about["checkpoint"]}
        if "checkpoint" in trained.about
        else {"model": cfg.model.preset, "weights": trained.about["weights"]}
    )
    datamodule.setup()
    out = Path(cfg.paths.output_dir)
    about["data"] = f"{datamodule.source} ({datamodule.image_size} px, split {settings.split})"
    write_report(model, datamodule, out, settings, about)
    log.info("Report: %s", out / "index.html")
    return out / "index.html"
