"""`hparams_search=optuna`: an Optuna study as a Hydra sweeper, on Hydra's public Sweeper API.

The study lives in a database (`hydra.sweeper.storage`); `hydra.sweeper.n_trials` is its total,
so the same command again runs only the missing trials (alexnet/launch/optuna_study.py). Trials
run in batches of `n_jobs` through the configured launcher; each job returns the run's
`optimized_metric`. A job that fails is a FAIL trial that counts as run; past
`max_failure_rate` the sweep stops with the jobs' own error.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, ListConfig, OmegaConf

from alexnet.errors import InvalidValue
from alexnet.launch import search_space

log = logging.getLogger(__name__)


@dataclass
class StudySweeperConf:
    """`hydra/sweeper=alexnet_optuna` (alexnet/config/conf/hparams_search/optuna.yaml sets it)."""

    _target_: str = "hydra_plugins.alexnet_sweeper.StudyOptunaSweeper"
    study_name: str = "alexnet"
    storage: Any = None  # a SQLAlchemy URL; None: in memory, nothing kept
    direction: Any = "maximize"  # or a list, one per objective
    n_trials: int = 20  # the study's total
    n_jobs: int = 1  # trials per batch
    max_failure_rate: float = 0.0
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler"})
    params: Any = None  # key: sweep expression, e.g. optimizer.lr: tag(log, interval(1e-5, 1e-2))


class StudySweeper(Sweeper):
    """The sweeper of the module's docstring (hydra_plugins/alexnet_sweeper names it for Hydra)."""

    def __init__(
        self,
        study_name: str,
        storage: str | None,
        direction: Any,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        sampler: Any,
        params: DictConfig | None = None,
    ) -> None:
        self.study_name, self.storage = study_name, storage
        self.directions = (
            [str(d) for d in direction]
            if isinstance(direction, (list, ListConfig))
            else [str(direction)]
        )
        self.n_trials, self.n_jobs = int(n_trials), int(n_jobs)
        self.max_failure_rate, self.sampler = float(max_failure_rate), sampler
        self.params = OmegaConf.to_container(params) if isinstance(params, DictConfig) else params
        self.job_idx = 0
        self.hydra_context: HydraContext | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> None:
        from alexnet.launch.optuna_study import keep_alive, missing_trials, open_study, shown

        try:
            space, fixed = search_space.parse(self.params, arguments)
            sampler = self._sampler(space)
            study, database = open_study(
                self.storage, self.study_name or "alexnet", self.directions, sampler
            )
        except InvalidValue as err:  # one line, not Hydra's traceback (as alexnet/cli/main.py does)
            raise SystemExit(f"error: {err}") from None
        if study.trials and hasattr(sampler, "reseed_rng"):
            sampler.reseed_rng()  # a seeded sampler would repeat the study's first trials
        missing = missing_trials(study, self.n_trials)
        log.info(
            "Study %s in %s: %d of n_trials=%d held, %d to run; sampler %s, directions %s",
            study.study_name,
            shown(self.storage) if self.storage else "memory",
            self.n_trials - missing,
            self.n_trials,
            missing,
            type(sampler).__name__,
            self.directions,
        )
        while (batch := min(self.n_jobs, missing_trials(study, self.n_trials))) > 0:
            with warnings.catch_warnings():  # our own heartbeats run beside ask/tell: keep_alive
                warnings.filterwarnings("ignore", "Heartbeat of storage is supposed to be used")
                trials = [study.ask(fixed_distributions=space) for _ in range(batch)]
            overrides = [search_space.trial_overrides(t.params, fixed) for t in trials]
            if self.hydra_context is not None:  # composes each job here, before any runs
                self.validate_batch_is_legal(overrides)
            with keep_alive(database, trials):
                returns = self.launcher.launch(overrides, initial_job_idx=self.job_idx)
            self.job_idx += len(returns)
            failures = [
                err
                for trial, ret in zip(trials, returns)
                if (err := tell(study, trial, ret, len(self.directions))) is not None
            ]
            if len(failures) / len(returns) > self.max_failure_rate:
                log.error(
                    "Failed %d times out of %d with max_failure_rate=%s.",
                    len(failures),
                    len(returns),
                    self.max_failure_rate,
                )
                raise failures[0]
        self._save_results(study, ran=self.job_idx > 0)

    def _sampler(self, space: dict[str, Any]) -> Any:
        """The configured sampler; a GridSampler (given as a partial, `_partial_: true`) gets
        the grid of the space and caps n_trials at the grid's size."""
        import optuna

        sampler = self.sampler
        if isinstance(sampler, functools.partial) and sampler.func is optuna.samplers.GridSampler:
            choices = search_space.grid(space)
            sampler = sampler(choices)
            size = 1
            for values in choices.values():
                size *= len(values)
            self.n_trials = min(self.n_trials, size)
        return sampler

    def _save_results(self, study: Any, ran: bool) -> None:
        """The study's best (over all its trials) in the sweep dir's optimization_results.yaml."""
        from optuna.trial import TrialState

        if not any(t.state == TrialState.COMPLETE for t in study.trials):
            log.warning("Study %s has no completed trial yet", study.study_name)
            return
        if len(study.directions) == 1:
            best = study.best_trial
            results = {"name": "optuna", "best_params": best.params, "best_value": best.value}
            log.info("Best parameters: %s; best value: %s", best.params, best.value)
        else:
            results = {
                "name": "optuna",
                "solutions": [{"params": t.params, "values": t.values} for t in study.best_trials],
            }
            log.info("Number of Pareto solutions: %d", len(study.best_trials))
        if ran:  # a re-run with nothing left to run makes no sweep dir
            sweep_dir = Path(str(self.config.hydra.sweep.dir))
            sweep_dir.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(OmegaConf.create(results), sweep_dir / "optimization_results.yaml")


def tell(study: Any, trial: Any, ret: JobReturn, objectives: int) -> Exception | None:
    """Tell the study the job's metric; a job that failed or returned no number is a FAIL that
    counts as run (JOB_FAILED). The job's error, if any."""
    from optuna.trial import TrialState

    from alexnet.launch.optuna_study import JOB_FAILED

    try:
        value = ret.return_value
        values = [float(value)] if objectives == 1 else [float(v) for v in value]
        if len(values) != objectives:
            raise ValueError(f"{len(values)} values returned for {objectives} objectives")
    except Exception as err:  # noqa: BLE001 - the job's own error, or a result that is no metric
        trial.set_user_attr(JOB_FAILED, f"{type(err).__name__}: {err}"[:500])
        study.tell(trial, state=TrialState.FAIL)
        log.warning("Failed experiment: %s", err)
        return err
    try:
        study.tell(trial, values=values)
    except RuntimeError as err:
        if "Study.stop" not in str(err):  # a GridSampler stops the study at the grid's end
            raise
    return None
