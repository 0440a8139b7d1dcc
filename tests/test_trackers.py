"""MLflow and W&B beside TensorBoard, read back with their own clients and files (no network),
and a sweep whose runs are named by their overrides in TensorBoard and MLflow."""

import json
import sys
import time
from pathlib import Path

import pytest
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
from tensorboard.plugins.hparams import plugin_data_pb2

from alexnet.cli import train_command
from alexnet.config import compose_config
from alexnet.run import train
from alexnet.run_names import MAX_LENGTH, run_name, safe_name, sweep_run_name
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
    cfg = compose_train(*ONE_EPOCH, "logger=[tensorboard,mlflow]", f"paths.log_dir={tmp_path}",
                        output_dir=out)
    assert sorted(cfg.logger) == ["mlflow", "tensorboard"]  # one key per selected option
    record = train(cfg)
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))  # TensorBoard as before
    (run,) = mlflow_runs(tmp_path)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"  # the run dir's name
    assert run.data.tags["run_dir"] == str(out)
    params = run.data.params
    assert params["activation"] == "relu" and params["model"] == "mini"  # the flat ones
    assert float(params["lr"]) == cfg.optimizer.lr == float(params["optimizer/lr"])  # Lightning's
    assert params["batch_size"] == "4" and params["optimizer"] == "adamw"
    history = mlflow_client(tmp_path).get_metric_history(run.info.run_id, "val/acc1")
    assert [round(m.value, 6) for m in history] == [e["val/acc1"] for e in record["history"]]
    final = {k.removeprefix("final/"): v for k, v in run.data.metrics.items()
             if k.startswith("final/")}
    written = json.loads((out / "metrics.json").read_text())
    assert final == written["metrics"] and "test/acc1" in final


def wandb_records(path: Path) -> list:
    """The records of a W&B transaction log (run-<id>.wandb): a 7-byte header, then 32 KiB
    blocks of chunks (crc32: 4 bytes, length: 2, type: 1 full / 2 first / 3 middle / 4 last)."""
    from wandb.proto import wandb_internal_pb2

    data, records, pending, pos = path.read_bytes(), [], b"", 7
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:  # a block's tail too short for a chunk header: padding
            pos += 32768 - pos % 32768
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        if pos + 7 + length > len(data):  # a chunk still being written
            break
        pending += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            records.append(wandb_internal_pb2.Record.FromString(pending))
            pending = b""
    return records


def finished_wandb_records(path: Path, timeout_s: float = 60.0) -> list:
    """The log's records once its exit record is on disk: wandb-core writes the log from its own
    process and may still be flushing when finish() returns (the next run or exit waits for it)."""
    deadline = time.monotonic() + timeout_s
    while not (records := wandb_records(path)) or not records[-1].HasField("exit"):
        if time.monotonic() > deadline:
            return records
        time.sleep(0.2)
    return records


def test_wandb_offline_run_holds_config_history_and_summary(tmp_path, monkeypatch):
    for key, value in {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": tmp_path,
                       "WANDB_CONFIG_DIR": tmp_path / "config", "WANDB_CACHE_DIR": tmp_path /
                       "cache", "WANDB_DATA_DIR": tmp_path / "data"}.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    out = tmp_path / "run"
    cfg = compose_train(*ONE_EPOCH, "logger=wandb", f"paths.log_dir={tmp_path}", output_dir=out)
    assert cfg.logger.wandb.offline is True  # offline by default, not only by WANDB_MODE here
    record = train(cfg)
    (log,) = out.glob("wandb/offline-run-*/run-*.wandb")  # under the run dir
    records = finished_wandb_records(log)
    kinds = [r.WhichOneof("record_type") for r in records]
    (run,) = [r.run for r in records if r.HasField("run")]
    assert run.display_name == "run" and run.project == "alexnet"
    config = {item.key: json.loads(item.value_json) for r in records if r.HasField("config")
              for item in r.config.update}
    assert config["activation"] == "relu" and config["lr"] == cfg.optimizer.lr
    assert config["model"]["preset"] == "mini"  # Lightning's nested hyperparameters
    history = [{i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in r.history.item}
               for r in records if r.HasField("history")]
    assert [round(h["val/acc1"], 6) for h in history if "val/acc1" in h] == [
        e["val/acc1"] for e in record["history"]]
    summary = {i.key or "/".join(i.nested_key): json.loads(i.value_json)
               for r in records if r.HasField("summary") for i in r.summary.update}
    final = {k.removeprefix("final/"): v for k, v in summary.items() if k.startswith("final/")}
    assert final == record["metrics"] and "test/acc1" in final  # the runs table's columns
    assert summary["val/acc1"] == pytest.approx(record["metrics"]["val/acc1"], abs=1e-6)
    assert kinds[-1] == "exit" and records[-1].exit.exit_code == 0  # the run was finished


@pytest.mark.parametrize("tracker", ["mlflow", "wandb"])
def test_a_missing_tracker_package_stops_with_one_line(tmp_path, monkeypatch, tracker):
    monkeypatch.setitem(sys.modules, tracker, None)  # as if not installed: find_spec is None
    monkeypatch.setattr(sys, "argv", ["train.py", *TINY, f"logger=[tensorboard,{tracker}]",
                                      f"paths.log_dir={tmp_path}"])
    with pytest.raises(SystemExit) as stopped:
        train_command()
    assert stopped.value.code == (f"error: logger='{tracker}' is not valid; the {tracker} "
                                  "package is not installed; install the trackers extra: "
                                  'pip install -e ".[trackers]"')
    assert not list(tmp_path.glob("train/*/*"))  # no run dir


def test_names_are_one_safe_file_name():
    assert safe_name("data.root=/data/imagenet,activation=tanh") == \
        "data.root=_data_imagenet,activation=tanh"
    assert safe_name('a=x:y*z?"<>|\\') == "a=x_y_z______"
    long = safe_name("optimizer.lr=" + "1" * 400)
    assert len(long) == MAX_LENGTH and long != safe_name("optimizer.lr=" + "1" * 399)


def set_hydra_job(sweep_dir: Path, task: list[str], mode: str = "MULTIRUN",
                  search_space: dict | None = None) -> None:
    """Make this process look like job 3 of a Hydra sweep in `sweep_dir` (or a single run)."""
    cfg = compose_config(["logger=[tensorboard,mlflow]"], with_hydra=True)
    with open_dict(cfg):
        cfg.hydra.mode, cfg.hydra.sweep.dir, cfg.hydra.job.num = mode, str(sweep_dir), 3
        cfg.hydra.overrides.task = task
        cfg.hydra.sweeper.params = search_space
    HydraConfig.instance().set_config(cfg)


def test_a_sweep_job_is_named_by_what_the_sweep_varies(tmp_path):
    job = ["model=mini", "activation=tanh", "dropout.p=0.31", "optimizer.lr=0.01",
           "paths.log_dir=/x", "logger.mlflow.tracking_uri=http://h:5000"]
    sweep = {"hydra": {"overrides": {"task": ["model=mini", "activation=relu,tanh",
                                              "optimizer.lr=0.01", "paths.log_dir=/x"]}}}
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
        assert run_name("/x/2026-01-01") == \
            "activation=tanh,dropout.p=0.31,model=mini,optimizer.lr=0.01"
    finally:
        HydraConfig.instance().cfg = None


@pytest.mark.slow
def test_sweep_runs_are_named_by_their_overrides(run_script, tmp_path):
    result = run_script("train.py", "-m", *TINY, "debug=limit", "trainer.max_epochs=1",
                        "logger=[tensorboard,mlflow]", "activation=relu,tanh",
                        f"paths.log_dir={tmp_path}")
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
        assert run.data.metrics["final/val/acc1"] == record["metrics"]["val/acc1"]
