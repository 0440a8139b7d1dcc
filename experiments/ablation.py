"""Experiment 4, ablation: one of the paper's design claims at a time, two arms paired by seed.

    python -m experiments.ablation --claim ID [--size tiny|cpu|full] [--seeds N] [--out DIR]
                                   [--data NAME] [--data-root PATH] [hydra overrides ...]
    python -m experiments.ablation --report DIR [--out OUT]   # re-make the report, no training

The claims, their two arms (configs of the `ablation` group), metric, direction, declared
effect and margin are in experiments/claims.yaml before any run: lrn (against its gain-matched
control, lrn_gain), overlapping_pooling, pca_colour, dropout_overfitting,
augmentation_overfitting and the placebo. Each run is a real `python train.py` job, both arms
with the same seeds (the seed fixes the task, the data order and the init: the arms are compared
seed by seed). At the `cpu` size: the hard synthetic task (data=synthetic_hard: hard-v2), the
claim's seeds from its power analysis (else 5), the claims file's reference recipe (no weight
decay: an arm's regularization is exactly what the arm names); `full`: Imagenette or ImageNet
(--data, --data-root) on a GPU. experiments/ablation_all.py runs every claim at once, sharing
the arms, and calls `report` for each.

Reported per arm: validation top-1 (mean ± 95% CI over seeds; one run's 2,500 images give it to
about a point, Wilson's interval beside it) and under a colour cast (ColourShiftProbe), training
accuracy (eval mode, un-augmented training images: alexnet.callbacks.training_probe), the
overfitting gap (their difference; not the running train-mode accuracy, which dropout and
augmentation lower by themselves), the worst layer's dead fraction, and what the arm changed in
the computation: LRN's output/input ratio spread (0: a constant rescale), the colour noise's RMS
shift along the training set's own RGB components, the pooling and the dropout. The claim's
effect: treatment - reference per seed (a seed whose run failed or diverged in either arm is
removed and counted), Student's t interval, its p-value and the smallest effect these seeds
could detect; effect.json keeps the per-seed differences and each arm's dead fractions for the
claims table (experiments/claims.py: Holm's levels and verdicts that can say no). Top-5 is not
reported: at 10 classes it is near 1 for every arm. Writes ablation.md/.csv, ablation.png,
effect.json, runs.json and provenance.json."""

from __future__ import annotations

from pathlib import Path

from experiments.ablation_report import report
from experiments.ablation_runs import (  # noqa: F401 - other experiments read them here
    COLOUR_CAST,
    arm_of,
    measure,
    seed_of,
)
from experiments.lab.claims import (
    claim,
    full_data,
    reference_overrides,
)
from experiments.lab.harness import (
    experiment_parser,
    output_dir,
    report_dirs,
    require_data_at_full,
    run_sweep,
    size_overrides,
)

CLAIM_IDS = (
    "lrn",
    "overlapping_pooling",
    "pca_colour",
    "dropout_overfitting",
    "augmentation_overfitting",
    "placebo",
)
SEEDS = {"tiny": 2, "cpu": 5, "full": 5}
DATA = {"tiny": "synthetic_hard", "cpu": "synthetic_hard", "full": None}
PROBE = {"tiny": (4, 12), "cpu": (100, 500), "full": (500, 2000)}


def probe_overrides(size: str) -> list[str]:
    every, images = PROBE[size]
    return [
        "+callbacks.training_probe._target_=alexnet.callbacks.training_probe.TrainingProbe",
        f"+callbacks.training_probe.every_n_steps={every}",
        f"+callbacks.training_probe.images={images}",
        "+callbacks.colour_shift._target_=alexnet.callbacks.colour_shift_probe.ColourShiftProbe",
        f"+callbacks.colour_shift.sigma={COLOUR_CAST}",
    ]


def arm_overrides(size: str, data: str | None = None, data_root: str | None = None) -> list[str]:
    """Every arm's overrides at `size` but the arm itself (ablation=...): the size's, the
    reference recipe less the knobs each arm's config sets, the probes, no other callbacks."""
    recipe = [
        o
        for o in reference_overrides(size)
        if not o.startswith(("dropout=", "data.augment=", "activation="))
    ]
    data = data or (None if data_root else DATA[size])
    return [
        *size_overrides(size, data_root, data),
        *recipe,
        *probe_overrides(size),
        "callbacks=none",
        "test=false",
    ]


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("ablation", __doc__.splitlines()[0])
    parser.add_argument("--claim", choices=CLAIM_IDS, help="the claim to test (its two arms)")
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "ablation")
        report(source, out, args.claim)
        return out
    if args.claim is None:
        parser.error(f"--claim is required: one of {', '.join(CLAIM_IDS)}")
    declared = claim(args.claim)
    require_data_at_full(args, full_data(args.claim))
    out = output_dir(f"ablation_{args.claim}", args.out)
    run_sweep(
        [
            *arm_overrides(args.size, args.data, args.data_root),
            f"ablation={declared.reference},{declared.treatment}",
            *declared.overrides.get(args.size, []),  # the power pilot's shrunk run, if any
            *overrides,
        ],
        out,
        args.seeds or declared.seeds.get(args.size) or SEEDS[args.size],
        extra={"claim": args.claim, "size": args.size},
    )
    report(out, out, args.claim)
    return out


if __name__ == "__main__":
    main()
