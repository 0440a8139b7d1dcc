"""Experiment 1, architecture: layer-by-layer tables of the presets and what `mini` saves.

    python -m experiments.architecture [--out DIR]

Writes architecture_<preset>.md/.csv (shapes, parameters, MiB, FLOPs per layer; alexnet and mini
at 224, paper2012 at 227 as in the paper), presets.md/.csv (totals and mini's reduction factor
against alexnet; alexnet and paper2012 with ImageNet's 1000 classes, mini with the notebook's 10)
and layers.png (parameters and FLOPs per layer).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from matplotlib.figure import Figure

from alexnet import create_model
from alexnet.models.summary import ModelSummary, summarize
from alexnet.tables import write_table
from experiments.lab.harness import output_dir
from experiments.lab.provenance import recorded

# Input size and class count of each preset: the paper's 227 for paper2012, the notebook's 10
# classes for its MiniAlexNet.
PRESETS = {
    "alexnet": (224, 1000),
    "paper2012": (227, 1000),
    "mini": (224, 10),
    "four_layer": (32, 10),
}


def layer_rows(summary: ModelSummary) -> list[dict[str, object]]:
    """One dict per layer, and a total."""
    rows: list[dict[str, object]] = [
        {
            "layer": r.name,
            "alias": r.alias,
            "type": r.kind,
            "output": "x".join(map(str, r.output_shape)),
            "params": r.params,
            "MiB": round(r.mebibytes, 3),
            "MFLOPs": round(r.flops / 1e6, 2),
        }
        for r in summary.rows
    ]
    rows.append(
        {
            "layer": "total",
            "alias": "",
            "type": "",
            "output": "",
            "params": summary.params,
            "MiB": round(summary.mebibytes, 3),
            "MFLOPs": round(summary.flops / 1e6, 2),
        }
    )
    return rows


def layers_figure(summaries: dict[str, ModelSummary]) -> Figure:
    """Parameters and forward FLOPs per weighted layer (by its alias), one bar per preset."""
    figure = Figure(figsize=(13, 4.5))
    axes = figure.subplots(1, 2)
    names: list[str] = []
    for summary in summaries.values():
        names += [r.alias for r in summary.rows if r.params and r.alias not in names]
    names.sort(key=lambda alias: (not alias.startswith("conv"), int(re.sub(r"\D", "", alias))))
    width = 0.8 / len(summaries)
    for offset, (preset, summary) in enumerate(summaries.items()):
        weighted = [r for r in summary.rows if r.params]
        positions = [names.index(r.alias) + (offset - 1) * width for r in weighted]
        axes[0].bar(positions, [r.params / 1e6 for r in weighted], width=width, label=preset)
        axes[1].bar(positions, [r.flops / 1e9 for r in weighted], width=width, label=preset)
    for axis in axes:
        axis.set_xticks(range(len(names)), names)
    axes[0].set_ylabel("parameters (millions)")
    axes[0].set_title("Parameters live in the FC layers")
    axes[1].set_ylabel("forward GFLOPs per image")
    axes[1].set_title("FLOPs live in the conv layers")
    axes[0].legend()
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output dir (default: logs/experiments/architecture/<time>)")
    args = parser.parse_args(argv)
    out = output_dir("architecture", args.out)
    with recorded(out):
        summaries = {
            name: summarize(create_model(name, num_classes=classes), size)
            for name, (size, classes) in PRESETS.items()
        }
        for name, summary in summaries.items():
            size, classes = PRESETS[name]
            print(f"\n## {name} at {size}x{size}, {classes} classes\n")
            print(write_table(layer_rows(summary), out / f"architecture_{name}"))
        base = summaries["alexnet"]
        totals = [
            {
                "preset": name,
                "input": PRESETS[name][0],
                "classes": PRESETS[name][1],
                "params": s.params,
                "MiB": round(s.mebibytes, 2),
                "GFLOPs": round(s.flops / 1e9, 3),
                "params_reduction_vs_alexnet": round(base.params / s.params, 2),
                "flops_reduction_vs_alexnet": round(base.flops / s.flops, 2),
            }
            for name, s in summaries.items()
        ]
        print("\n## Presets\n")
        print(write_table(totals, out / "presets"))
        layers_figure(summaries).savefig(out / "layers.png", dpi=110)
        print(f"Wrote {out}")
    return out


if __name__ == "__main__":
    main()
