"""Print a model's layer-by-layer summary: python -m alexnet.summary model=paper2012 image_size=227"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from alexnet.config import CONF_DIR, model_from_config
from alexnet.models import summarize

FORMATS = ("text", "markdown")


def render(cfg: DictConfig) -> str:
    """The summary that `cfg` asks for, as text or markdown."""
    if cfg.format not in FORMATS:
        raise ValueError(f"format={cfg.format!r} is not valid; choose one of: {', '.join(FORMATS)}")
    size = cfg.image_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"image_size={size!r} is not valid; it must be a positive integer")
    model = model_from_config(cfg, num_classes=cfg.num_classes)
    if size < model.min_input_size:
        raise ValueError(
            f"image_size={size} is too small for model={cfg.model.preset}; "
            f"the minimum is {model.min_input_size}"
        )
    summary = summarize(model, size)
    title = (f"model={cfg.model.preset} activation={cfg.activation.name} dropout={cfg.dropout.p} "
             f"input 3x{size}x{size} (minimum {model.min_input_size}), "
             f"{summary.params:,} parameters, {summary.flops / 1e9:.3f} GFLOPs forward per image")
    table = summary.to_markdown() if cfg.format == "markdown" else summary.to_text()
    return f"{title}\n\n{table}"


@hydra.main(config_path=str(CONF_DIR), config_name="summary", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Print the summary, or one line naming the bad setting."""
    try:
        text = render(cfg)
    except ValueError as err:
        sys.exit(f"error: {err}")
    print(text)


if __name__ == "__main__":
    main()
