"""MLflow and W&B beside TensorBoard, read back with their own clients and files (no network),
and a sweep whose runs are named by their overrides in TensorBoard and MLflow."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
from tensorboard.plugins.hparams import plugin_data_pb2

from alexnet.cli.main import train_command
from alexnet.config.compose import compose_config
from alexnet.config.run_names import MAX_LENGTH, run_name, safe_name, sweep_run_name
from alexnet.run.api import train
from tests.conftest import TINY, compose_train

ONE_EPOCH = [*TINY, "trainer.max_epochs=1", "callbacks=none"]


def mlflow_client(log_dir: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{log_dir}/mlflow.db")  # the default store, under paths.log_dir


def mlflow_runs(log_dir: Path) -> list:
    client = mlflow_client(log_dir)
    experiment = client.get_experiment_by_name("alexnet")
    return client.search_runs([experiment.experiment_id]) if experiment else []


@pytest.fixture(autouse=True)
def no_tracking_uri_from_other_tests(monkeypatch):
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI to the process environment (for its
    subprocesses); set it to nothing here, so that monkeypatch removes it again afterwards."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "unset")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")


def test_mlflow_beside_tensorboard_gets_params_metrics_and_final_metrics(tmp_path):
    out = tmp_path / "run"
    cfg = compose_train(
        *ONE_EPOCH, "logger=[tensorboard,mlflow]", f"paths.log_dir={tmp_path}", output_dir=out
    )
    assert sorted(cfg.logger) == ["mlflow", "tensorboard"]  # one key per selected option
    record = train(cfg)
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))  # TensorBoard as before
    (run,) = mlflow_runs(tmp_path)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"  # the run dir's name
    assert run.data.tags["run_dir"] == str(out)
    params = run.data.params
    assert params["activation"] == "relu" and params["model"] == "mini"  # the flat ones
    # Exact: a param is the float's str, which reads back as the same float.
    assert float(params["lr"]) == cfg.optimizer.lr == float(params["optimizer/lr"])  # Lightning's
    assert params["batch_size"] == "4" and params["optimizer"] == "adamw"
    history = mlflow_client(tmp_path).get_metric_history(run.info.run_id, "val/acc1")
    # metrics.json keeps 6 decimals of what was logged.
    assert [m.value for m in history] == pytest.approx(
        [e["val/acc1"] for e in record["history"]], abs=1e-6
    )
    final = {
        k.removeprefix("final/"): v for k, v in run.data.metrics.items() if k.startswith("final/")
    }
    written = json.loads((out / "metrics.json").read_text())
    assert final == pytest.approx(written["metrics"], abs=1e-12)  # metrics.json's own values
    assert set(final) == set(written["metrics"]) and "test/acc1" in final


def wandb_inspect(log: Path, *options: str) -> str:
    """`wandb leet inspect` (wandb's own reader of a run's transaction log) on `log`."""
    result = subprocess.run(
        [sys.executable, "-m", "wandb", "leet", "inspect", *options, str(log)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def finished_wandb_run(log: Path, timeout_s: float = 60.0) -> tuple[dict, list[dict]]:
    """The run's summary (state, exit code, config, last metrics) and its records, once its exit
    record is on disk: wandb-core writes the log from its own process and may still be flushing
    when finish() returns (a CI run once read a partial log)."""
    deadline = time.monotonic() + timeout_s
    while (summary := json.loads(wandb_inspect(log, "--summary", "--json")))["state"] == "running":
        assert time.monotonic() < deadline, f"no exit record in {log} after {timeout_s:g} s"
        time.sleep(0.5)
    return summary, [json.loads(line) for line in wandb_inspect(log, "--json").splitlines()]


def test_wandb_offline_run_holds_config_history_and_summary(tmp_path, monkeypatch):
    for key, value in {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DIR": tmp_path,
        "WANDB_CONFIG_DIR": tmp_path / "config",
        "WANDB_CACHE_DIR": tmp_path / "cache",
        "WANDB_DATA_DIR": tmp_path / "data",
    }.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    out = tmp_path / "run"
    cfg = compose_train(*ONE_EPOCH, "logger=wandb", f"paths.log_dir={tmp_path}", output_dir=out)
    assert cfg.logger.wandb.offline is True  # offline by default, not only by WANDB_MODE here
    record = train(cfg)
    (log,) = out.glob("wandb/offline-run-*/run-*.wandb")  # under the run dir
    run, records = finished_wandb_run(log)
    assert run["state"] == "finished" and run["exit_code"] == 0  # the run was finished
    assert records[-1]["type"] == "exit"
    assert run["name"] == "run" and run["project"] == "alexnet"
    config = run["config"]
    # Exact: the JSON of a float is its repr, read back as the same float.
    assert config["activation"] == "relu" and config["lr"] == cfg.optimizer.lr
    assert config["model"]["preset"] == "mini"  # Lightning's nested hyperparameters
    history = [r["history"]["item"] for r in records if r["type"] == "history"]
    logged = [h["val/acc1"] for h in history if "val/acc1" in h]
    # metrics.json keeps 6 decimals of what was logged.
    assert logged == pytest.approx([e["val/acc1"] for e in record["history"]], abs=1e-6)
    summary = run["summary"]
    final = {k.removeprefix("final/"): v for k, v in summary.items() if k.startswith("final/")}
    assert final == pytest.approx(record["metrics"], abs=1e-12)  # metrics.json's own values
    assert set(final) == set(record["metrics"]) and "test/acc1" in final  # the runs table
    assert summary["val/acc1"] == pytest.approx(record["metrics"]["val/acc1"], abs=1e-6)


@pytest.mark.parametrize("tracker", ["mlflow", "wandb"])
def test_a_missing_tracker_package_stops_with_one_line(tmp_path, monkeypatch, tracker):
    monkeypatch.setitem(sys.modules, tracker, None)  # as if not installed: find_spec is None
    monkeypatch.setattr(
        sys,
        "argv",
        ["train.py", *TINY, f"logger=[tensorboard,{tracker}]", f"paths.log_dir={tmp_path}"],
    )
    with pytest.raises(SystemExit) as stopped:
        train_command()
    assert stopped.value.code == (
        f"error: logger='{tracker}' is not valid; the {tracker} "
        "package is not installed; install the trackers extra: "
        'pip install -e ".[trackers]"'
    )
    assert not list(tmp_path.glob("train/*/*"))  # no run dir


def test_names_are_one_safe_file_name():
    assert (
        safe_name("data.root=/data/imagenet,activation=tanh")
        == "data.root=_data_imagenet,activation=tanh"
    )
    assert safe_name('a=x:y*z?"<>|\\') == "a=x_y_z______"
    long = safe_name("optimizer.lr=" + "1" * 400)
    assert len(long) == MAX_LENGTH and long != safe_name("optimizer.lr=" + "1" * 399)


def set_hydra_job(
    sweep_dir: Path, task: list[str], mode: str = "MULTIRUN", search_space: dict | None = None
) -> None:
    """Make this process look like job 3 of a Hydra sweep in `sweep_dir` (or a single run)."""
    cfg = compose_config(["logger=[tensorboard,mlflow]"], with_hydra=True)
    with open_dict(cfg):
        cfg.hydra.mode, cfg.hydra.sweep.dir, cfg.hydra.job.num = mode, str(sweep_dir), 3
        cfg.hydra.overrides.task = task
        cfg.hydra.sweeper.params = search_space
    HydraConfig.instance().set_config(cfg)


def test_a_sweep_job_is_named_by_what_the_sweep_varies(tmp_path):
    job = [
        "model=mini",
        "activation=tanh",
        "dropout.p=0.31",
        "optimizer.lr=0.01",
        "paths.log_dir=/x",
        "logger.mlflow.tracking_uri=http://h:5000",
    ]
    sweep = {
        "hydra": {
            "overrides": {
                "task": [
                    "model=mini",
                    "activation=relu,tanh",
                    "optimizer.lr=0.01",
                    "paths.log_dir=/x",
                ]
            }
        }
    }
    (tmp_path / "multirun.yaml").write_text(yaml.safe_dump(sweep))
    try:
        set_hydra_job(tmp_path, job, search_space={"dropout.p": "interval(0, 0.9)"})  # Optuna's
        assert run_name("/x/3") == sweep_run_name() == "activation=tanh,dropout.p=0.31"
        (tmp_path / "multirun.yaml").unlink()
        set_hydra_job(tmp_path, job)  # nothing known to vary: every override but paths, logger
        assert sweep_run_name() == "activation=tanh,dropout.p=0.31,model=mini,optimizer.lr=0.01"
        set_hydra_job(tmp_path, ["paths.log_dir=/x"])
        assert sweep_run_name() == "3" and run_name("/x/3") == "3"  # the job number
        set_hydra_job(tmp_path, job, mode="RUN")
        assert sweep_run_name() == ""  # a single run's events stay in <run dir>/tensorboard
        assert (
            run_name("/x/2026-01-01")
            == "activation=tanh,dropout.p=0.31,model=mini,optimizer.lr=0.01"
        )
    finally:
        HydraConfig.instance().cfg = None


@pytest.mark.slow
def test_sweep_runs_are_named_by_their_overrides(run_script, tmp_path):
    result = run_script(
        "train.py",
        "-m",
        *TINY,
        "debug=limit",
        "trainer.max_epochs=1",
        "logger=[tensorboard,mlflow]",
        "activation=relu,tanh",
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = tmp_path.glob("train/multiruns/*")
    events = EventMultiplexer()
    events.AddRunsFromDirectory(str(sweep))
    events.Reload()
    names = {"0/tensorboard/activation=relu": "relu", "1/tensorboard/activation=tanh": "tanh"}
    assert set(events.Runs()) == set(names)  # what `tensorboard --logdir <sweep>` lists
    for name, activation in names.items():  # each HPARAMS row holds its run's own activation
        content = events.PluginRunToTagToContent("hparams")[name]["_hparams_/session_start_info"]
        hparams = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info.hparams
        assert hparams["activation"].string_value == activation
    runs = {r.info.run_name: r for r in mlflow_runs(tmp_path)}
    assert sorted(runs) == ["activation=relu", "activation=tanh"]
    for job, activation in (("0", "relu"), ("1", "tanh")):
        run = runs[f"activation={activation}"]
        assert run.data.params["activation"] == activation and run.info.status == "FINISHED"
        assert run.data.tags["run_dir"] == str(sweep / job)
        record = json.loads((sweep / job / "metrics.json").read_text())
        assert run.data.metrics["final/val/acc1"] == pytest.approx(
            record["metrics"]["val/acc1"], abs=1e-12
        )  # the same value
