"""What the experiments share: their harness (sizes, options, output dirs, sweeps), run
summaries, statistics, verdicts that can say no, the claims table and its figure,
provenance, and a JPEG folder writer."""
