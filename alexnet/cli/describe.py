"""Describe a model layer by layer: python -m alexnet describe model=paper2012 image_size=227"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from alexnet.config.compose import CONF_DIR, model_from_config
from alexnet.config.overrides_check import check_command_line
from alexnet.errors import InvalidValue, check_choice, check_int
from alexnet.models import summarize

FORMATS = ("text", "markdown")


def render(cfg: DictConfig) -> str:
    """The layer table that `cfg` asks for, as text or markdown."""
    check_choice("format", cfg.format, FORMATS)
    size = cfg.image_size
    check_int("image_size", size, minimum=1)
    check_int("num_classes", cfg.num_classes, minimum=1)
    model = model_from_config(cfg, num_classes=cfg.num_classes)
    if size < model.min_input_size:
        raise InvalidValue(
            "image_size",
            size,
            f"it is too small for model={cfg.model.preset}; the minimum is {model.min_input_size}",
        )
    summary = summarize(model, size)
    title = (
        f"model={cfg.model.preset} activation={cfg.activation.name} dropout={cfg.dropout.p} "
        f"input 3x{size}x{size} (minimum {model.min_input_size}), "
        f"{summary.params:,} parameters, {summary.flops / 1e9:.3f} GFLOPs forward per image"
    )
    table = summary.to_markdown() if cfg.format == "markdown" else summary.to_text()
    return f"{title}\n\n{table}"


@hydra.main(config_path=str(CONF_DIR), config_name="describe", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Print the layer table, or one line naming the bad setting."""
    try:
        text = render(cfg)
    except ValueError as err:
        sys.exit(f"error: {err}")
    print(text)


def command() -> None:
    """`python -m alexnet describe ...`: the overrides checked (one line for a mistake), then
    the table."""
    try:
        check_command_line(sys.argv[1:], "describe")
    except ValueError as err:
        sys.exit(f"error: {err}")
    main()


if __name__ == "__main__":
    command()
