"""Every preset exported to every format at its full size, each checked against PyTorch: the
largest logit difference and the top-1 agreement on the export check's fixed batch, and on a
second batch of another size (the dynamic batch axis), with the file's size and export time.

    python -m experiments.export_parity [--batch 8] [--out DIR]

Random weights (seed 0): parity is a property of the exported graph, not of training. Writes
export_parity.md/.csv and provenance.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from alexnet.inference.export import FORMATS, compare, export_model, run_exported
from alexnet.models import create_model, preset_names
from alexnet.models.presets import preset_knobs
from alexnet.tables import write_table
from experiments.lab.harness import int_at_least, output_dir
from experiments.lab.provenance import recorded

SIZES = {"alexnet": (224, 1000), "paper2012": (227, 1000), "mini": (64, 10), "four_layer": (32, 10)}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int_at_least(2), default=8)
    parser.add_argument("--out", help="output dir (default: logs/experiments/export_parity/<time>)")
    args = parser.parse_args(argv)
    out = output_dir("export_parity", args.out)
    rows = []
    with recorded(out), tempfile.TemporaryDirectory() as scratch:
        for preset in preset_names():
            size, classes = SIZES[preset]
            torch.manual_seed(0)
            model = create_model(preset, num_classes=classes).eval()
            spec = {"model": {**preset_knobs(preset), "preset": preset, "num_classes": classes}}
            other = torch.randn(
                args.batch + 3, 3, size, size, generator=torch.Generator().manual_seed(1)
            )
            with torch.inference_mode():
                expected = model(other).numpy()
            for fmt, suffix in FORMATS.items():
                path = Path(scratch) / f"{preset}{suffix}"
                started = time.perf_counter()
                parity = export_model(model, fmt, path, size, spec, args.batch)
                seconds = time.perf_counter() - started
                again = compare(expected, run_exported(fmt, path, other, spec["model"]), 0)
                rows.append(
                    {
                        "preset": preset,
                        "format": fmt,
                        "input": f"{size} px, {classes} classes",
                        "largest logit difference": f"{parity.largest_difference:.2e}",
                        "top-1 agreement": f"{parity.top1_agree}/{parity.batch}",
                        "another batch size: difference": f"{again.largest_difference:.2e}",
                        "another batch size: top-1": f"{again.top1_agree}/{again.batch}",
                        "file MB": round(path.stat().st_size / 2**20, 1),
                        "export + check s": round(seconds, 1),
                    }
                )
                path.unlink()
        table = write_table(rows, out / "export_parity")
    print(table)
    return out


if __name__ == "__main__":
    main()
