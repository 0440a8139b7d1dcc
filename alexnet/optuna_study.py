"""Optuna studies kept in a database: `hparams_search=optuna` continues its study on a re-run.

`hydra.sweeper.n_trials` is the study's total. Before each batch the sweeper counts what the study
holds (trials completed, pruned, failed by their job, or still running in another sweeper) and
runs only the missing ones, so a re-run after a crash, a larger n_trials, or several sweepers on
one storage all fill the same study up to n_trials. A trial whose sweeper stopped (Ctrl-C, or a
crash: its heartbeat goes silent for GRACE_S) is marked FAIL without a result and is run again.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from hydra.core.utils import JobReturn
from hydra_plugins.hydra_optuna_sweeper._impl import (
    OptunaSweeperImpl,
    create_params_from_overrides,
)
from omegaconf import OmegaConf
from optuna.storages import RDBStorage
from optuna.trial import Trial, TrialState
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from alexnet.errors import InvalidValue

log = logging.getLogger(__name__)

HEARTBEAT_S = 30  # a sweeper marks its running trials alive this often
GRACE_S = 120  # a RUNNING trial silent for longer lost its sweeper: FAIL, and run again
JOB_FAILED = "job_failed"  # user attr of a trial whose job ran and failed: it counts as run
STORAGE_KEY = "hydra.sweeper.storage"


def open_study(storage: str | None, study_name: str, directions: Sequence[str],
               sampler: Any = None, heartbeat_s: int = HEARTBEAT_S,
               grace_s: int = GRACE_S) -> tuple[optuna.Study, RDBStorage | None]:
    """The study `study_name` in `storage` (a SQLAlchemy URL, None: in memory), created if new,
    and its database; a SQLite file's folder is made. A storage that cannot be opened, or a study
    made for other directions, is an InvalidValue."""
    if storage is None:
        return optuna.create_study(study_name=study_name, sampler=sampler,
                                   directions=list(directions)), None
    database = connect(storage, heartbeat_s, grace_s)
    try:
        study = optuna.create_study(study_name=study_name, storage=database, sampler=sampler,
                                    directions=list(directions), load_if_exists=True)
    except ValueError as err:  # optuna: "Cannot overwrite study direction from ... to ..."
        if "direction" not in str(err):
            raise
        raise InvalidValue("hydra.sweeper.direction", "/".join(directions),
                           f"study {study_name!r} in {_shown(storage)} was made for other "
                           "directions; use another hydra.sweeper.study_name") from None
    return study, database


def connect(storage: str, heartbeat_s: int = HEARTBEAT_S, grace_s: int = GRACE_S) -> RDBStorage:
    """The database at SQLAlchemy URL `storage` (a relative SQLite path made absolute), with
    heartbeats on; InvalidValue naming hydra.sweeper.storage if it cannot be opened."""
    if int(sqlalchemy.__version__.split(".")[0]) >= 2:  # optuna<3 needs SQLAlchemy 1.4
        raise InvalidValue(STORAGE_KEY, _shown(storage), f"optuna {optuna.__version__} cannot use "
                           f"SQLAlchemy {sqlalchemy.__version__}: pip install 'sqlalchemy<2'")
    try:
        url = _absolute_sqlite(storage)
        return RDBStorage(url, heartbeat_interval=heartbeat_s, grace_period=grace_s)
    except ImportError as err:  # optuna's wrapper of a missing driver (psycopg2, ...)
        reason = (f"its database driver is not installed ({err.__cause__ or err}); install "
                  "it (psycopg2-binary for postgresql://)")
    except (SQLAlchemyError, ValueError, RuntimeError, OSError) as err:
        reason = (f"the study database cannot be opened ({str(err).splitlines()[0]}); give a "
                  "SQLAlchemy URL such as sqlite:////abs/path/study.db or "
                  "postgresql://user:pass@host/db")
    raise InvalidValue(STORAGE_KEY, _shown(storage), reason)


def _absolute_sqlite(storage: str) -> str:
    """`storage`, a SQLite file's path made absolute and its folder made."""
    url = make_url(storage)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return storage
    path = Path(url.database).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return url.set(database=str(path)).render_as_string(hide_password=False)


def _shown(storage: str) -> str:
    """`storage` without its password, for logs and errors."""
    try:
        return make_url(storage).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return storage


def counts(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether `trial` counts toward n_trials: not one interrupted with its sweeper."""
    if trial.state == TrialState.FAIL:
        return JOB_FAILED in trial.user_attrs
    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


def missing_trials(study: optuna.Study, n_trials: int) -> int:
    """How many trials `study` misses to hold `n_trials`, once the RUNNING trials of dead
    sweepers (a stale heartbeat) are failed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    held = sum(counts(t) for t in study.get_trials(deepcopy=False))
    return max(0, n_trials - held)


@contextmanager
def keep_alive(database: RDBStorage | None, trials: Sequence[Trial],
               every_s: float = HEARTBEAT_S) -> Iterator[None]:
    """Heartbeats for `trials` while their jobs run; if the jobs are stopped (Ctrl-C, an error
    of the launcher), the trials are marked FAIL without a result, to be run again."""
    stop = threading.Event()

    def beat() -> None:
        while True:
            for trial in trials:
                try:  # optuna's own heartbeat uses the trial's id too
                    database.record_heartbeat(trial._trial_id)  # type: ignore[union-attr]
                except SQLAlchemyError as err:  # a lost beat; the next one may get through
                    log.warning("Heartbeat of trial %d not recorded: %s", trial.number, err)
            if stop.wait(every_s):
                return

    thread = threading.Thread(target=beat, daemon=True) if database is not None else None
    if thread is not None:
        thread.start()
    try:
        yield
    except BaseException:
        for trial in trials:
            with suppress(Exception):  # the jobs' own error is the one to see
                trial.study.tell(trial, state=TrialState.FAIL)
        raise
    finally:
        stop.set()
        if thread is not None:
            thread.join()


class StudySweeperImpl(OptunaSweeperImpl):
    """The Optuna plugin's sweeper, with `n_trials` as the total of a stored study."""

    def sweep(self, arguments: list[str]) -> None:
        space, fixed = self._search_space(arguments)
        directions = self._get_directions()
        try:
            study, database = open_study(self.storage, self.study_name or "alexnet", directions,
                                         self.sampler)
        except InvalidValue as err:  # one line, not Hydra's traceback (as alexnet/cli.py does)
            raise SystemExit(f"error: {err}") from None
        if study.trials:
            self.sampler.reseed_rng()  # a seeded sampler would repeat the study's first trials
        missing = missing_trials(study, self.n_trials)
        log.info("Study %s in %s: %d of n_trials=%d held, %d to run; sampler %s, directions %s",
                 study.study_name, _shown(self.storage) if self.storage else "memory",
                 self.n_trials - missing, self.n_trials, missing, type(self.sampler).__name__,
                 directions)
        while (batch := min(self.n_jobs, missing_trials(study, self.n_trials))) > 0:
            trials = [study.ask() for _ in range(batch)]
            overrides = self._configure_trials(trials, space, fixed)
            with keep_alive(database, trials):
                returns = self.launcher.launch(overrides, initial_job_idx=self.job_idx)
            self.job_idx += len(returns)
            failures = [err for trial, ret in zip(trials, returns)
                        if (err := _tell(study, trial, ret, len(directions))) is not None]
            if len(failures) / len(returns) > self.max_failure_rate:
                log.error("Failed %d times out of %d with max_failure_rate=%s.", len(failures),
                          len(returns), self.max_failure_rate)
                for ret in returns:
                    ret.return_value  # noqa: B018 - raises the job's own error
        self._save_results(study, ran=self.job_idx > 0)

    def _search_space(self, arguments: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The plugin's search space (hydra.sweeper.params and the command line's sweeps) and
        fixed parameters; a GridSampler is made for it and caps n_trials at the grid's size."""
        self._process_searchspace_config()
        space, fixed = create_params_from_overrides(
            self._parse_sweeper_params_config() + list(arguments))
        space = {**(self.search_space_distributions or {}), **space}
        for name in fixed:
            space.pop(name, None)
        if isinstance(self.sampler, functools.partial) and \
                self.sampler.func == optuna.samplers.GridSampler:
            grid = {name: self._to_grid_sampler_choices(d) for name, d in space.items()}
            self.sampler = self.sampler(grid)
            self.n_trials = min(self.n_trials, math.prod(len(c) for c in grid.values()))
        return space, fixed

    def _save_results(self, study: optuna.Study, ran: bool) -> None:
        """The study's best (over all its trials) in the sweep dir's optimization_results.yaml,
        as the plugin writes it."""
        if not any(t.state == TrialState.COMPLETE for t in study.trials):
            log.warning("Study %s has no completed trial yet", study.study_name)
            return
        if len(study.directions) == 1:
            best = study.best_trial
            results = {"name": "optuna", "best_params": best.params, "best_value": best.value}
            log.info("Best parameters: %s; best value: %s", best.params, best.value)
        else:
            results = {"name": "optuna", "solutions": [
                {"params": t.params, "values": t.values} for t in study.best_trials]}
            log.info("Number of Pareto solutions: %d", len(study.best_trials))
        if ran:  # a re-run with nothing left to run makes no sweep dir
            sweep_dir = Path(self.config.hydra.sweep.dir)
            sweep_dir.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(OmegaConf.create(results), sweep_dir / "optimization_results.yaml")


def _tell(study: optuna.Study, trial: Trial, ret: JobReturn, objectives: int) -> Exception | None:
    """Tell the study the job's metric; a job that failed or returned no number is a FAIL that
    counts as run (JOB_FAILED). The job's error, if any."""
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
