"""The lab's experiments, run as modules from the checkout: python -m experiments.NAME.
They are not part of the wheel; their harness, statistics, claims and provenance are in
experiments/lab/."""
