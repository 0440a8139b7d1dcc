"""A run: the train and evaluate API, building a run from its config, the record it
leaves, checkpoints, trackers, the console, and the callbacks every run adds (divergence,
history, RNG state, dead units, hyperparameters)."""
