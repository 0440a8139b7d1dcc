"""Hydra finds sweepers only in the hydra_plugins package: this names the one of
`hparams_search=optuna` (the body is alexnet/launch/study_sweeper.py)."""

from hydra.core.config_store import ConfigStore

from alexnet.launch.study_sweeper import StudySweeper, StudySweeperConf

ConfigStore.instance().store(
    group="hydra/sweeper", name="alexnet_optuna", node=StudySweeperConf, provider="alexnet"
)


class StudyOptunaSweeper(StudySweeper):
    """An Optuna study kept in a database; `hydra.sweeper.n_trials` is its total."""
