"""Does the network's evidence lie on the object? Grad-CAM against the object masks the
synthetic images know, beside the maps that bound it.

    python -m experiments.localization [--size tiny|cpu] [--seeds N] [--layer conv3]
                                       [--images N] [--out DIR] [hydra overrides ...]
    python -m experiments.localization --sweep experiments/results/ablation   # the claim's runs
    python -m experiments.localization --report DIR [--out OUT]   # re-make the report

The `mini` preset is trained over seeds through the framework (the claims file's reference
recipe, on the hard synthetic task: cluttered 1/f backgrounds, distractors, occluders). Each
run's final weights (its newest checkpoint: chosen on nothing) are then measured on its held-out
test images, which neither training nor any choice saw, against each image's object mask:
- the pointing game: the share of images whose map peaks inside the object. A flat map (an
  all-zero rectified Grad-CAM: no positive evidence anywhere) is a miss, never pixel (0, 0);
- mass inside: the mean share of the map's mass inside the object.
Maps: the trained model's Grad-CAM (rectified, as Selvaraju et al. define it), the same network
untrained (a fresh init), a centre prior (a Gaussian at the centre, no model), local contrast
energy (a saliency baseline that learns nothing), and the oracle ceiling (each object mask
averaged onto Grad-CAM's grid and upsampled the same way: the best a map at that resolution can
score). With --sweep (the claim's protocol at --size cpu, experiments/declarations/
localization_v2.yaml): nothing is trained but what is gone; the runs measured are the shared
ablation sweep's `full` arm (experiments/localization_runs.py). Claim `localization`
(experiments/claims.yaml): trained Grad-CAM's pointing game minus the centre prior's, paired by
seed. Writes localization.md/.csv, pointing.csv (per seed and map), effect.json, runs.json and
provenance.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from alexnet.tables import markdown_table, write_table
from experiments.lab.claims import (
    Measured,
    claim,
    effect_sentence,
    measured,
    reference_overrides,
    write_effect,
)
from experiments.lab.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
    run_sweep,
    size_overrides,
)
from experiments.lab.provenance import (
    collect,
    git_state,
    provenance_markdown,
    read_provenance,
    write_provenance,
)
from experiments.lab.runs import load_runs, write_summary
from experiments.lab.stats import mean_ci
from experiments.localization_maps import (  # noqa: F401 - MAPS, PRIOR: the tests read them here
    MAPS,
    PRIOR,
    TRAINED,
    map_rows,
    measure,
    read_pointing,
)
from experiments.localization_runs import gather

CLAIM = "localization"
SEEDS = {"tiny": 2, "cpu": 5}
IMAGES = {"tiny": 24, "cpu": 1000}
FIXED = ["model=mini", "data.image_size=64", "logger=none", "test=false"]


def report(source: Path, out: Path) -> Measured | None:
    """localization.md/.csv and effect.json from `source`'s pointing.csv."""
    declared = claim(CLAIM)
    provenance = read_provenance(out) or read_provenance(source) or {}
    rows = read_pointing(source / "pointing.csv")
    table = map_rows(rows)
    write_table(table, out / "localization")
    rate = {
        name: {int(r["seed"]): r["hits"] / r["images"] for r in rows if r["map"] == name}
        for name in MAPS
    }
    result = None
    if rate[TRAINED] and rate[PRIOR]:
        runs = load_runs(source)
        data = runs[0].task if runs else "?"
        result = measured(
            CLAIM,
            rate[TRAINED],
            rate[PRIOR],
            "difference",
            data,
            provenance.get("size", "?"),
            removed=provenance.get("removed") or {},
        )
        write_effect(out, result)
    accuracy = [r["val top-1"] for r in rows if r["map"] == TRAINED and r["val top-1"]]
    text = (
        "# Grad-CAM localization on the synthetic data\n\n"
        + provenance_markdown(provenance or None)
        + f"\nClaim `{CLAIM}` (experiments/claims.yaml): {declared.metric}; trained Grad-CAM "
        f"at {provenance.get('layer', '?')} against the centre prior, paired by seed, on "
        "each run's held-out test images (its final weights: no checkpoint chosen on them)."
        f" The trained models' validation top-1: {mean_ci(accuracy) if accuracy else '?'}."
        "\n\n"
        + sweep_note(provenance)
        + effect_line(result)
        + "\n\n"
        + markdown_table(table)
        + "\nThe oracle is the ceiling for a map at Grad-CAM's resolution; the object share is "
        "the pointing game of a random point.\n"
    )
    (out / "localization.md").write_text(text)
    print(text)
    return result


def sweep_note(provenance: dict) -> str:
    """Where the runs came from, with --sweep: the shared sweep's `full` arm, the seeds trained
    again (their job dirs gone), the seeds removed."""
    if not provenance.get("sweep"):
        return ""
    again = provenance.get("retrained") or []
    removed = provenance.get("removed") or {}
    return (
        f"The runs: the `full` arm of the shared ablation sweep `{provenance['sweep']}` "
        "(experiments/declarations/localization_v2.yaml), each seed's final checkpoint"
        + (f"; seeds {again} trained again with the arm's own overrides" if again else "")
        + (f"; removed: {removed}" if removed else "")
        + ".\n\n"
    )


def effect_line(measured: Measured | None) -> str:
    return effect_sentence(
        measured,
        "Grad-CAM - centre prior",
        "Grad-CAM - centre prior, pointing game",
        scale=100,
        digits=1,
        unit="points",
    )


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("localization", __doc__.splitlines()[0])
    parser.set_defaults(size="cpu")
    parser.add_argument("--layer", default="conv3", help="the conv layer Grad-CAM reads")
    parser.add_argument(
        "--images",
        type=int,
        default=None,
        help="test images per run (default: 24 at tiny, 1000 at cpu)",
    )
    parser.add_argument(
        "--sweep",
        type=Path,
        help="measure the `full` runs of this shared ablation sweep (experiments/results/"
        "ablation) instead of training: the declared cpu protocol",
    )
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "localization")
        if out.resolve() != source.resolve():
            (out / "pointing.csv").write_bytes((source / "pointing.csv").read_bytes())
        report(source, out)
        return out
    if args.size not in SEEDS:
        parser.error(f"--size {args.size}: this experiment has sizes {', '.join(SEEDS)}")
    out = output_dir("localization", args.out)
    if args.sweep:
        return from_sweep(args, out)
    sized = [
        o
        for o in size_overrides(args.size, data="synthetic_hard")
        if not o.startswith(("model=", "data.image_size=", "test="))
    ]
    run_sweep(
        [*sized, *reference_overrides(args.size), *FIXED, *overrides],
        out,
        args.seeds or SEEDS[args.size],
        extra={"size": args.size, "layer": args.layer},
    )
    measure(out, load_runs(out / "sweep"), args.layer, args.images or IMAGES[args.size])
    report(out, out)
    return out


def from_sweep(args: argparse.Namespace, out: Path) -> Path:
    """The declared protocol: the shared sweep's `full` runs measured, none trained anew but
    those whose job dirs are gone."""
    git, started = git_state(exclude=out), time.perf_counter()
    task = "hard-v2" if args.size == "cpu" else None  # the declared task (localization_v2)
    runs, again, removed = gather(args.sweep, out, task)
    write_summary(runs, out)
    seeds = sorted(int(r.config["seed"]) for r in runs)
    measure(out, runs, args.layer, args.images or IMAGES[args.size])
    record = collect(seeds, time.perf_counter() - started, git=git, out=out)
    extra = {"size": args.size, "layer": args.layer, "sweep": str(args.sweep)}
    write_provenance(out, {**record, **extra, "retrained": again, "removed": removed})
    report(out, out)
    return out


if __name__ == "__main__":
    main()
