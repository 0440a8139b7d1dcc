"""Optuna studies kept in a database: `hparams_search=optuna` continues its study on a re-run.

`hydra.sweeper.n_trials` is the study's total. Before each batch the sweeper counts what the study
holds (trials completed, pruned, failed by their job, or still running in another sweeper) and
runs only the missing ones, so a re-run after a crash, a larger n_trials, or several sweepers on
one storage all fill the same study up to n_trials. A trial whose sweeper stopped (Ctrl-C, or a
crash: its heartbeat goes silent for GRACE_S) is marked FAIL without a result and is run again.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import optuna
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


def open_study(
    storage: str | None,
    study_name: str,
    directions: Sequence[str],
    sampler: Any = None,
    heartbeat_s: int = HEARTBEAT_S,
    grace_s: int = GRACE_S,
) -> tuple[optuna.Study, RDBStorage | None]:
    """The study `study_name` in `storage` (a SQLAlchemy URL, None: in memory), created if new,
    and its database; a SQLite file's folder is made. A storage that cannot be opened, or a study
    made for other directions, is an InvalidValue."""
    if storage is None:
        return optuna.create_study(
            study_name=study_name, sampler=sampler, directions=list(directions)
        ), None
    database = connect(storage, heartbeat_s, grace_s)
    study = optuna.create_study(
        study_name=study_name,
        storage=database,
        sampler=sampler,
        directions=list(directions),
        load_if_exists=True,
    )
    held = [d.name.lower() for d in study.directions]
    if held != [d.lower() for d in directions]:  # a stored study keeps its own directions
        raise InvalidValue(
            "hydra.sweeper.direction",
            "/".join(directions),
            f"study {study_name!r} in {shown(storage)} was made for "
            f"{'/'.join(held)}; use another hydra.sweeper.study_name",
        )
    return study, database


def connect(storage: str, heartbeat_s: int = HEARTBEAT_S, grace_s: int = GRACE_S) -> RDBStorage:
    """The database at SQLAlchemy URL `storage` (a relative SQLite path made absolute), with
    heartbeats on; InvalidValue naming hydra.sweeper.storage if it cannot be opened."""
    try:
        url = _absolute_sqlite(storage)
        with warnings.catch_warnings():  # heartbeats: "an experimental feature" since optuna 2.9
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, heartbeat_interval=heartbeat_s, grace_period=grace_s)
    except ImportError as err:  # optuna's wrapper of a missing driver (psycopg2, ...)
        reason = (
            f"its database driver is not installed ({err.__cause__ or err}); install "
            "it (psycopg2-binary for postgresql://)"
        )
    except (SQLAlchemyError, ValueError, RuntimeError, OSError) as err:
        reason = (
            f"the study database cannot be opened ({str(err).splitlines()[0]}); give a "
            "SQLAlchemy URL such as sqlite:////abs/path/study.db or "
            "postgresql://user:pass@host/db"
        )
    raise InvalidValue(STORAGE_KEY, shown(storage), reason)


def _absolute_sqlite(storage: str) -> str:
    """`storage`, a SQLite file's path made absolute and its folder made."""
    url = make_url(storage)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return storage
    path = Path(url.database).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return url.set(database=str(path)).render_as_string(hide_password=False)


def shown(storage: str) -> str:
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
def keep_alive(
    database: RDBStorage | None, trials: Sequence[Trial], every_s: float = HEARTBEAT_S
) -> Iterator[None]:
    """Heartbeats for `trials` while their jobs run; if the jobs are stopped (Ctrl-C, an error
    of the launcher), the trials are marked FAIL without a result, to be run again."""
    stop = threading.Event()

    ids: list[int] = []
    if database is not None and trials:  # the storage's own ids, through its public API
        study_id = database.get_study_id_from_name(trials[0].study.study_name)
        ids = [database.get_trial_id_from_study_id_trial_number(study_id, t.number) for t in trials]

    def beat() -> None:
        assert database is not None
        while True:
            for trial, trial_id in zip(trials, ids):
                try:
                    database.record_heartbeat(trial_id)
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
