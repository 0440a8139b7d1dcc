"""Experiment 7, legacy: AlexNet beside VGG, ResNet, EfficientNet and ViT.

    python -m experiments.legacy [--out DIR] [--data experiments/data/legacy_models.csv]

The numbers come from a data file with a source for each (paper for year and depth, torchvision's
model pages for ImageNet accuracy, all measured the same way: ImageNet-1K val, one 224 crop).
Parameter counts are checked against the torchvision architectures, built here without weights.
Writes legacy.md/.csv and legacy.png (top-1 error by year, marker area by parameters).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torchvision
from matplotlib.figure import Figure

from alexnet.tables import read_csv, write_table
from experiments.lab.harness import output_dir
from experiments.lab.provenance import recorded

DATA = Path(__file__).resolve().parent / "data" / "legacy_models.csv"


def counted_params(builder: str) -> int:
    """Parameters of torchvision.models.<builder>(), built with random weights."""
    model = getattr(torchvision.models, builder)(weights=None)
    return sum(p.numel() for p in model.parameters())


def rows(data: Path) -> list[dict[str, object]]:
    """The table: the data file's figures, top-1/top-5 error, and the counted parameters."""
    table = []
    for entry in read_csv(data):
        counted = counted_params(entry["torchvision_builder"])
        if counted != int(entry["params"]):
            raise ValueError(
                f"{data}: {entry['model']} params={entry['params']} but "
                f"torchvision.models.{entry['torchvision_builder']} has {counted}"
            )
        table.append(
            {
                "model": entry["model"],
                "year": int(entry["year"]),
                "depth": int(entry["depth"]),
                "params_M": round(counted / 1e6, 1),
                "top1_error_pct": round(100 - float(entry["top1_acc_pct"]), 2),
                "top5_error_pct": round(100 - float(entry["top5_acc_pct"]), 2),
                "source_year_depth": entry["source_year_depth"],
                "source_accuracy": entry["source_accuracy"],
            }
        )
    return table


def legacy_figure(table: list[dict[str, object]]) -> Figure:
    """Top-1 error against the year, marker area by parameters, labelled with the depth."""
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    for row in table:
        axes.scatter(row["year"], row["top1_error_pct"], s=8 * float(row["params_M"]), alpha=0.5)
        axes.annotate(
            f"{row['model']}\n{row['depth']} layers, {row['params_M']}M",
            (row["year"], row["top1_error_pct"]),
            textcoords="offset points",
            xytext=(8, 6),
            fontsize=8,
        )
    axes.set_xlabel("year")
    axes.set_ylabel("ImageNet top-1 error (%), torchvision weights, one 224 crop")
    axes.set_title("After AlexNet: deeper, then more efficient (marker area ~ parameters)")
    axes.set_xlim(2011, 2022.5)
    axes.set_ylim(0, 50)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output dir (default: logs/experiments/legacy/<time>)")
    parser.add_argument("--data", type=Path, default=DATA, help="the models' data file (CSV)")
    args = parser.parse_args(argv)
    out = output_dir("legacy", args.out)
    with recorded(out):
        table = rows(args.data)
        columns = ["model", "year", "depth", "params_M", "top1_error_pct", "top5_error_pct"]
        print(write_table(table, out / "legacy", columns))
        write_table(table, out / "legacy_sources")
        legacy_figure(table).savefig(out / "legacy.png", dpi=110)
        print(f"Wrote {out}")
    return out


if __name__ == "__main__":
    main()
