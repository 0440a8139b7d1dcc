"""Hydra instantiates sweepers only from the hydra_plugins package: this is the one of
`hparams_search=optuna`, the Optuna plugin's sweeper with its study kept in a database
(alexnet/optuna_study.py)."""

from typing import Any

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


class StudyOptunaSweeper(OptunaSweeper):
    """`hydra.sweeper.n_trials` is the stored study's total: a re-run runs the missing trials."""

    def __init__(self, **kwargs: Any) -> None:
        from alexnet.optuna_study import StudySweeperImpl  # optuna loads only for a sweep

        self.sweeper = StudySweeperImpl(**kwargs)
