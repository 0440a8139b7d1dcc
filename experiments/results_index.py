"""The index of the committed results: experiments/results/README.md, made from their files.

    python -m experiments.results_index [--results DIR]

Each experiment's dir under experiments/results/ holds the small outputs its command wrote
(markdown and CSV tables, PNG figures, runs.json) and provenance.json (the command, commit,
versions, machine, seeds, wall time). This script gathers each one's main table and provenance
line into one page; nothing in it is typed by hand, and a test checks it is up to date.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.lab.provenance import ROOT, provenance_markdown, read_provenance

RESULTS = ROOT / "experiments" / "results"
# (dir, title, the table shown, what it answers)
ENTRIES = (
    (
        "relu_vs_tanh",
        "ReLU against tanh (the paper's Figure 1)",
        "relu_vs_tanh.md",
        "Does a ReLU network reach 25% training error faster than tanh, each at its own best rate?",
    ),
    (
        "ablation",
        "The ablation claims' shared sweep: its power pilot",
        "pilot.md",
        "How many seeds the six ablation claims run, by the rule declared before the sweep?",
    ),
    *(
        (
            f"ablation/{claim}",
            f"Ablation: {claim.replace('_', ' ')}",
            "ablation.md",
            "One of the paper's design claims, its two arms paired by seed on the hard task.",
        )
        for claim in (
            "lrn",
            "overlapping_pooling",
            "pca_colour",
            "dropout_overfitting",
            "augmentation_overfitting",
            "placebo",
        )
    ),
    (
        "calibrate_hard",
        "Calibration of the hard task",
        "calibration.md",
        "The training-set size a rule declared before the runs chose for data=synthetic_hard.",
    ),
    (
        "calibrate_hard_v2",
        "Calibration of the hard task, declared (hard-v2)",
        "calibration.md",
        "The training-set size the rule in declarations/hard_calibration_v2.yaml chose for "
        "data=synthetic_hard on the healthy reference recipe, every candidate run.",
    ),
    (
        "reference_recipe",
        "The claims' reference recipe",
        "selection.md",
        "Which recipe (init, warm-up, optimizer, rate) keeps every layer of the reference arm "
        "alive, by the rule declared before the runs?",
    ),
    ("dropout", "Dropout", "dropout.md", "Does dropout help held-out accuracy here?"),
    (
        "localization",
        "Grad-CAM localization",
        "localization.md",
        "Does Grad-CAM point at the object, against an untrained network and a centre prior?",
    ),
    (
        "tower_colour",
        "Colour per tower (the paper's Figure 3)",
        "tower_colour.md",
        "Do the two towers' first-layer kernels differ in colour, as the paper saw?",
    ),
    (
        "data_path",
        "Data path",
        "data_path.md",
        "Does the data path keep the model busy? End-to-end training against the model fed from "
        "memory, synthetic cache off and on.",
    ),
    (
        "image_decoders",
        "JPEG decoders",
        "image_decoders.md",
        "torchvision's JPEG decoders (deprecated in 0.29) against TorchCodec's and PIL's, on the "
        "loader path and the device path: is moving to TorchCodec worth it now?",
    ),
    (
        "architecture",
        "Architecture",
        "presets.md",
        "Parameters, MiB and FLOPs of each preset (per-layer tables in the dir).",
    ),
    (
        "export_parity",
        "Export parity",
        "export_parity.md",
        "Does every preset, exported to ONNX, TorchScript and safetensors, give PyTorch's logits?",
    ),
    (
        "predict_speed",
        "Predict speed",
        "predict_speed.md",
        "Is alexnet-predict as fast as a plain PyTorch loop over the same files and model?",
    ),
    ("activations", "Activations", "activations.md", "Where each activation saturates."),
    (
        "lr_schedules",
        "Learning-rate schedules",
        "lr_schedules.md",
        "The learning rate of each schedule config over 90 epochs.",
    ),
    ("legacy", "AlexNet's legacy", "legacy.md", "AlexNet beside its successors, with sources."),
    (
        "archive/claims_v1",
        "The claims' first version (archived)",
        "claims.md",
        "The claims table before issue 32 (a half-dead reference network, verdicts that could "
        "not say no); its folders keep each result as its commit made it.",
    ),
)


def body(markdown: str) -> str:
    """A report's tables and lines, without its title and its own provenance line."""
    lines = [
        line
        for line in markdown.splitlines()
        if not line.startswith(("# ", "Made by `", "_No provenance"))
    ]
    return "\n".join(lines).strip() + "\n"


def index(results: Path) -> str:
    """The page: each experiment present under `results`, its question, provenance and table."""
    parts = [
        "# Results\n",
        "Made by `python -m experiments.results_index` from the files beside it; each "
        "section's numbers come from the linked dir, written by the command named in its "
        "provenance line. Re-run that command to measure them again (a command recorded as "
        "`python experiments/NAME.py` runs today as `python -m experiments.NAME`, from the "
        "checkout). The paper's claims, "
        "scored together: [claims.md](claims.md).\n",
    ]
    for name, title, table, question in ENTRIES:
        folder = results / name
        if not (folder / table).is_file():
            continue
        parts.append(
            f"## {title}\n\n{question} Files: [{name}/]({name}/)\n\n"
            + provenance_markdown(read_provenance(folder))
            + "\n"
            + body((folder / table).read_text())
        )
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    path = args.results / "README.md"
    path.write_text(index(args.results))
    print(f"Wrote {path}")
    return path


if __name__ == "__main__":
    main()
