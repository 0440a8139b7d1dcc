"""Running many jobs: the Optuna study sweeper, and (through `hydra_plugins/`, which holds only
thin shims) what Hydra's plugins call."""
