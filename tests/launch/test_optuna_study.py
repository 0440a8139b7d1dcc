"""Optuna studies in a database: n_trials is the study's total, a re-run continues the study."""

import functools
import time
from pathlib import Path

import hydra.utils
import optuna
import pytest
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf
from optuna.trial import TrialState

from alexnet.config.compose import compose_config
from alexnet.errors import InvalidValue
from alexnet.launch.optuna_study import JOB_FAILED, missing_trials, open_study
from alexnet.launch.study_sweeper import StudySweeper
from tests.conftest import TINY


class FakeLauncher:
    """Returns `value` for every job (raising `stop` instead, if given) and records the jobs."""

    def __init__(self, value: float | None = 0.5, stop: BaseException | None = None) -> None:
        self.value, self.stop, self.jobs = value, stop, []

    def launch(self, overrides, initial_job_idx):
        if self.stop is not None:
            raise self.stop
        self.jobs += list(overrides)
        return [
            JobReturn(overrides=list(o), status=JobStatus.COMPLETED, _return_value=self.value)
            for o in overrides
        ]


def sweeper(
    storage: str, launcher: FakeLauncher, n_trials: int, sweep_dir: Path, n_jobs: int = 2
) -> StudySweeper:
    """The sweeper as Hydra makes it, with `launcher` in place of Hydra's."""
    impl = StudySweeper(
        sampler=optuna.samplers.RandomSampler(seed=0),
        direction="maximize",
        storage=storage,
        study_name="s",
        n_trials=n_trials,
        n_jobs=n_jobs,
        max_failure_rate=1.0,
        params=OmegaConf.create({"optimizer.lr": "interval(0.001, 0.1)"}),
    )
    impl.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    impl.launcher, impl.job_idx = launcher, 0
    return impl


def test_a_rerun_runs_only_the_missing_trials_and_interrupted_ones_again(tmp_path):
    storage = f"sqlite:///{tmp_path}/db/s.db"  # its folder does not exist yet
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C in the first batch
        sweeper(storage, FakeLauncher(stop=KeyboardInterrupt()), 3, tmp_path / "a").sweep([])
    first = FakeLauncher()
    sweeper(storage, first, 3, tmp_path / "b").sweep([])
    assert len(first.jobs) == 3  # the 2 interrupted trials do not count
    failing = FakeLauncher(value=None)  # jobs that fail count as run
    sweeper(storage, failing, 4, tmp_path / "c").sweep([])
    nothing = FakeLauncher()
    sweeper(storage, nothing, 4, tmp_path / "d").sweep([])
    assert (len(failing.jobs), len(nothing.jobs)) == (1, 0)
    assert not (tmp_path / "d").exists()
    trials = optuna.load_study(study_name="s", storage=storage).trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 2 + [TrialState.COMPLETE] * 3 + [
        TrialState.FAIL
    ]
    assert JOB_FAILED in trials[-1].user_attrs and JOB_FAILED not in trials[0].user_attrs
    assert len({t.params["optimizer.lr"] for t in trials}) == 6  # the re-runs drew new values
    assert "best_value: 0.5" in (tmp_path / "c" / "optimization_results.yaml").read_text()


def test_a_trial_whose_sweeper_died_is_failed_once_its_heartbeat_is_stale(tmp_path):
    study, database = open_study(
        f"sqlite:///{tmp_path}/s.db", "s", ["maximize"], heartbeat_s=1, grace_s=1
    )
    alive, dead = study.ask(), study.ask()
    database.record_heartbeat(dead._trial_id)
    time.sleep(2.2)
    assert missing_trials(study, 5) == 4  # the live one (no heartbeat yet) counts
    assert [t.state for t in study.trials] == [TrialState.RUNNING, TrialState.FAIL]
    assert alive.number == 0


def test_a_study_made_for_another_direction_is_refused(tmp_path):
    storage = f"sqlite:///{tmp_path}/s.db"
    open_study(storage, "s", ["maximize"])
    with pytest.raises(InvalidValue, match="hydra.sweeper.direction='minimize'.*study_name"):
        open_study(storage, "s", ["minimize"])


@pytest.mark.parametrize(
    "storage", ["nosuchdb://host/db", "postgresql://me:secret@127.0.0.1:9/db", "not a url"]
)
def test_a_bad_storage_is_one_line_naming_the_key(tmp_path, storage):
    with pytest.raises(SystemExit) as stop:
        sweeper(storage, FakeLauncher(), 2, tmp_path).sweep([])
    message = str(stop.value.code)
    assert message.startswith("error: hydra.sweeper.storage=") and "\n" not in message
    assert "secret" not in message


@pytest.mark.slow
def test_the_same_command_with_more_trials_continues_the_study(run_script, tmp_path):
    command = [
        "train.py",
        "hparams_search=optuna",
        "hydra.sweeper.sampler.n_startup_trials=1",
        *TINY,
        "debug=limit",
        "trainer.max_epochs=1",
        "logger=none",
        "callbacks=none",
        f"paths.log_dir={tmp_path}",
    ]
    for n_trials in (2, 4):
        result = run_script(*command, f"hydra.sweeper.n_trials={n_trials}")
        assert result.returncode == 0, result.stderr[-2000:]
    first, second = sorted(tmp_path.glob("train/multiruns/*"))
    assert [len(list(s.glob("*/metrics.json"))) for s in (first, second)] == [2, 2]
    study = optuna.load_study(
        study_name="alexnet", storage=f"sqlite:///{tmp_path}/optuna/alexnet.db"
    )
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4


def test_a_grid_sampler_runs_each_point_once_and_caps_n_trials(tmp_path):
    launcher = FakeLauncher()
    impl = StudySweeper(
        sampler=functools.partial(optuna.samplers.GridSampler, seed=0),
        direction="maximize",
        storage=None,
        study_name="g",
        n_trials=10,
        n_jobs=3,
        max_failure_rate=0.0,
        params=OmegaConf.create({"activation": "choice(relu, tanh)"}),
    )
    impl.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    impl.launcher = launcher
    impl.sweep(["data.batch_size=range(8, 17, 8)", "seed=1"])
    assert sorted(map(tuple, launcher.jobs)) == sorted(
        (f"activation={a}", f"data.batch_size={b}", "seed=1")
        for a in ("relu", "tanh")
        for b in (8, 16)
    )


@pytest.mark.parametrize(
    "choice, sampler",
    [
        ("tpe", optuna.samplers.TPESampler),
        ("random", optuna.samplers.RandomSampler),
        ("grid", optuna.samplers.GridSampler),
        ("nsgaii", optuna.samplers.NSGAIISampler),
    ],
)
def test_each_sampler_is_one_command_line_choice(choice, sampler):
    # `hydra/sweeper/sampler=grid` on the command line: no key of another sampler left behind
    # (TPE's n_startup_trials would make GridSampler fail), the run's seed passed on.
    overrides = ["hparams_search=optuna", f"hydra/sweeper/sampler={choice}", "seed=7"]
    if choice == "tpe":
        overrides.pop(1)  # the default
    cfg = compose_config(overrides, with_hydra=True)
    made = hydra.utils.instantiate(cfg.hydra.sweeper.sampler)
    if choice == "grid":  # the sweeper gives it the grid of its params
        assert isinstance(made, functools.partial) and made.func is sampler
        made = made({"activation": ["relu", "tanh"]})
    assert type(made) is sampler
    assert cfg.hydra.sweeper.sampler.seed == 7


def test_a_dotted_search_key_is_set_from_the_command_line_with_a_dict():
    # `hydra.sweeper.params.optimizer.lr=...` reads `optimizer` as a node (Hydra: not in struct);
    # the README's form assigns a dict, which Hydra merges into the study's params.
    cfg = compose_config(
        [
            "hparams_search=optuna",
            "hydra/sweeper/sampler=grid",
            'hydra.sweeper.params={optimizer.lr:"choice(1e-4,1e-3)",dropout.p:"choice(0.5)"}',
        ],
        with_hydra=True,
    )
    assert dict(cfg.hydra.sweeper.params) == {
        "optimizer.lr": "choice(1e-4,1e-3)",
        "dropout.p": "choice(0.5)",
        "activation": "choice(relu, tanh, elu)",
    }
