"""The paper's Figure 3: do the two towers' first-layer kernels differ in colour?

    python experiments/tower_colour.py [--size tiny|cpu|full] [--seeds N] [--out DIR]
                                       [--data NAME] [--data-root PATH] [hydra overrides ...]
    python experiments/tower_colour.py --report DIR [--out OUT]   # re-make the report

The paper saw, on ImageNet, one GPU's conv1 kernels largely colour-agnostic and the other's
colour-specific, seed after seed. Here `paper2012` (two towers: conv2, conv4 and conv5 see only
their own tower's maps) is trained over seeds through the framework; each run's last weights and
the same network untrained are measured: per tower, the chroma share of its conv1 kernels (the
fraction of kernel energy off the luminance axis; 2/3 for random weights) and its grey kernels
(under 1/3). Towers are symmetric, so each run's towers are ranked: the greyer and the more
colourful. Writes tower_colour.md/.csv, towers.csv, filters.png (conv1 of seed 0, one block per
tower), runs.json and provenance.json.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from alexnet.checkpoints import resolve_checkpoint
from alexnet.experiment_args import (
    experiment_parser,
    output_dir,
    report_dirs,
    run_sweep,
    seeds_of,
    size_overrides,
)
from alexnet.interpret.colour import tower_colour
from alexnet.models import create_model
from alexnet.module import AlexNetModule
from alexnet.provenance import provenance_markdown, read_provenance
from alexnet.stats import difference, mean_ci
from alexnet.sweeps import load_runs
from alexnet.tables import markdown_table, write_table
from alexnet.viz import AlexNetVisualizer

# The paper's N(0, 0.01) init does not leave chance level in a CPU-sized run (5 epochs at 96 px:
# val top-1 0.10 of 10 classes); He's init does (0.85 after 4), so the cpu size uses it.
MODEL = {"tiny": ["model=paper2012", "model.init=kaiming", "data.image_size=67"],
         "cpu": ["model=paper2012", "model.init=kaiming", "data.image_size=96",
                 "trainer.max_epochs=12"],
         "full": ["model=paper2012", "data.image_size=227", "data.resize_size=256",
                  "trainer.max_epochs=90"]}


def measure(out: Path) -> list[dict[str, object]]:
    """Per run and tower: the trained weights' colour and the untrained network's (the same
    seed's init); the first run's conv1 filters drawn to filters.png."""
    rows: list[dict[str, object]] = []
    runs = sorted((r for r in load_runs(out / "sweep") if r.record.get("status") == "completed"),
                  key=lambda r: r.config["seed"])
    for index, run in enumerate(runs):
        module = AlexNetModule.load_from_checkpoint(resolve_checkpoint(run.path),
                                                    map_location="cpu", weights_only=True)
        spec = dict(module.hparams["model"])
        torch.manual_seed(run.config["seed"])
        untrained = create_model(spec.pop("preset"), **spec)
        for state, model in (("trained", module.model), ("untrained", untrained)):
            for tower in tower_colour(model):
                rows.append({"seed": run.config["seed"], "state": state, **tower})
        if index == 0:
            AlexNetVisualizer(module.model).plot_conv_filters(
                "conv1", module.model.features[0].out_channels, path=out / "filters.png",
                show=False)
    write_table(rows, out / "towers")
    return rows


def read_towers(path: Path) -> list[dict[str, object]]:
    with path.open(newline="") as handle:
        return [{k: (v if k == "state" else float(v)) for k, v in row.items()}
                for row in csv.DictReader(handle)]


def report(source: Path, out: Path) -> list[dict[str, object]]:
    """tower_colour.md/.csv from `source`'s towers.csv: each state's greyer and more colourful
    tower over seeds, and whether training opened a gap beyond the untrained one."""
    rows = read_towers(source / "towers.csv")
    ranked: dict[str, dict[str, list[float]]] = {}
    for state in ("trained", "untrained"):
        for seed in sorted({r["seed"] for r in rows if r["state"] == state}):
            towers = sorted((r for r in rows if r["state"] == state and r["seed"] == seed),
                            key=lambda r: r["mean chroma share"])
            entry = ranked.setdefault(state, {"grey": [], "colour": [], "gap": [],
                                              "grey_kernels": [], "colour_grey_kernels": []})
            entry["grey"].append(towers[0]["mean chroma share"])
            entry["colour"].append(towers[-1]["mean chroma share"])
            entry["gap"].append(towers[-1]["mean chroma share"] - towers[0]["mean chroma share"])
            entry["grey_kernels"].append(towers[0]["grey kernels"])
            entry["colour_grey_kernels"].append(towers[-1]["grey kernels"])
    table = [{"weights": state, "seeds": len(v["gap"]),
              "greyer tower: chroma share": str(mean_ci(v["grey"])),
              "greyer tower: grey kernels": str(mean_ci(v["grey_kernels"])),
              "more colourful tower: chroma share": str(mean_ci(v["colour"])),
              "more colourful tower: grey kernels": str(mean_ci(v["colour_grey_kernels"])),
              "gap in chroma share": str(mean_ci(v["gap"]))} for state, v in ranked.items()]
    write_table(table, out / "tower_colour")
    verdict = ""
    if {"trained", "untrained"} <= ranked.keys():
        delta, beyond = difference(ranked["trained"]["gap"], ranked["untrained"]["gap"])
        verdict = (f"\nTraining changed the towers' gap by {delta.mean:+.3f} "
                   f"(Welch's 95% CI ±{delta.half_width:.3f}; beyond seed noise: "
                   f"{'yes' if beyond else 'no'})\n" if delta.half_width is not None else
                   f"\nTraining changed the towers' gap by {delta.mean:+.3f} (1 seed: no "
                   "interval)\n")
    text = ("# The paper's Figure 3: colour per tower in conv1\n\n" +
            provenance_markdown(read_provenance(source)) +
            "\nPer run, the towers ranked by the mean chroma share of their conv1 kernels "
            "(fraction of kernel energy off the luminance axis: 0 grey, 2/3 random weights, 1 "
            "pure colour); grey kernels: the share of a tower's kernels under 1/3. Mean ± 95% CI "
            "over seeds. The paper (ImageNet, 90 epochs): one tower largely colour-agnostic, "
            "the other colour-specific.\n\n" + markdown_table(table) + verdict +
            "\n![conv1 of the first seed, one block per tower](filters.png)\n")
    (out / "tower_colour.md").write_text(text)
    print(text)
    print(f"Wrote {out}")
    return table


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("tower_colour", __doc__.splitlines()[0])
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "tower_colour")
        if out.resolve() != source.resolve():
            for file in ("towers.csv", "filters.png"):
                (out / file).write_bytes((source / file).read_bytes())
        report(source, out)
        return out
    out = output_dir("tower_colour", args.out)
    model = MODEL[args.size]
    sized = [o for o in size_overrides(args.size, args.data_root, args.data)
             if not o.startswith(("model=", "data.image_size="))]
    run_sweep([*sized, *model, *overrides], out, seeds_of(args))
    measure(out)
    report(out, out)
    return out


if __name__ == "__main__":
    main()
