"""Per-layer summary of a model at an input size: output shapes, parameters, MiB and FLOPs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from alexnet.models.inspect import layer_aliases

BYTES_PER_PARAM = 4  # float32
MIB = 2**20  # sizes are in MiB (1,048,576 bytes), as the seed notebook printed them


@dataclass(frozen=True)
class LayerRow:
    """One layer: its module name, alias, type, output shape (no batch), parameters, FLOPs."""

    name: str
    alias: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    trainable: int
    flops: int

    @property
    def mebibytes(self) -> float:
        """The float32 size of the parameters in MiB."""
        return self.params * BYTES_PER_PARAM / MIB


@dataclass(frozen=True)
class ModelSummary:
    """The layers of a model at one input shape, with totals."""

    input_shape: tuple[int, ...]
    rows: list[LayerRow]
    params: int
    trainable: int
    flops: int

    @property
    def mebibytes(self) -> float:
        """The float32 size of the parameters in MiB."""
        return self.params * BYTES_PER_PARAM / MIB

    def table(self) -> list[list[str]]:
        """The summary as rows of strings, a header first and the totals last."""
        header = ["layer", "alias", "type", "output", "params", "trainable", "MiB", "MFLOPs"]
        body = [
            [
                r.name,
                r.alias,
                r.kind,
                "x".join(map(str, r.output_shape)),
                f"{r.params:,}",
                f"{r.trainable:,}",
                f"{r.mebibytes:.2f}",
                f"{r.flops / 1e6:,.2f}",
            ]
            for r in self.rows
        ]
        total = [
            "total",
            "",
            "",
            "",
            f"{self.params:,}",
            f"{self.trainable:,}",
            f"{self.mebibytes:.2f}",
            f"{self.flops / 1e6:,.2f}",
        ]
        return [header, *body, total]

    def to_text(self) -> str:
        """A fixed-width text table."""
        rows = self.table()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        numeric = range(4, len(widths))
        lines = [
            "  ".join(
                cell.rjust(w) if i in numeric else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths))
            ).rstrip()
            for row in rows
        ]
        rule = "-" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]])

    def to_markdown(self) -> str:
        """A markdown table."""
        rows = self.table()
        align = ["---"] * 4 + ["---:"] * (len(rows[0]) - 4)
        return "\n".join("| " + " | ".join(row) + " |" for row in [rows[0], align, *rows[1:]])


def layer_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers a summary lists: each child of a top-level Sequential, else the child itself."""
    layers = []
    for name, child in model.named_children():
        if isinstance(child, nn.Sequential):
            layers.extend((f"{name}.{sub}", module) for sub, module in child.named_children())
        else:
            layers.append((name, child))
    return layers


@torch.no_grad()
def summarize(
    model: nn.Module, image_size: int | tuple[int, int] = 224, in_channels: int = 3
) -> ModelSummary:
    """Summarize `model` for one image of `image_size` (FLOPs per image, forward, eval mode)."""
    height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
    layers = layer_modules(model)
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [
        module.register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
        )
        for name, module in layers
    ]
    param = next(model.parameters(), None)
    x = torch.zeros(
        1, in_channels, height, width, device=param.device if param is not None else None
    )
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    alias_of = {name: alias for alias, name in layer_aliases(model).items()}
    flops = {name: sum(ops.values()) for name, ops in counter.get_flop_counts().items()}
    prefix = type(model).__name__ + "."
    rows = [
        LayerRow(
            name=name,
            alias=alias_of.get(name, ""),
            kind=_kind(module),
            output_shape=shapes.get(name, ()),
            params=sum(p.numel() for p in module.parameters()),
            trainable=sum(p.numel() for p in module.parameters() if p.requires_grad),
            flops=flops.get(prefix + name, 0),
        )
        for name, module in layers
    ]
    return ModelSummary(
        input_shape=(in_channels, height, width),
        rows=rows,
        params=sum(p.numel() for p in model.parameters()),
        trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        flops=counter.get_total_flops(),
    )


def _kind(module: nn.Module) -> str:
    if isinstance(module, nn.Sequential):
        return "+".join(type(m).__name__ for m in module)
    return type(module).__name__
