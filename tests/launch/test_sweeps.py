"""Real `python train.py` / `eval.py` processes (multirun, joblib, Optuna, exit codes), and the
entry points in this process for their help and their one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alexnet.cli.main import eval_command, train_command
from alexnet.run.api import train
from tests.conftest import ROOT, TINY, compose_train


def job_dirs(log_dir: Path) -> list[Path]:
    return sorted(p.parent for p in log_dir.glob("train/multiruns/*/*/metrics.json"))


LIMIT = [*TINY, "debug=limit", "trainer.max_epochs=1", "logger=csv"]


@pytest.mark.slow
def test_multirun_runs_one_dir_per_job(run_script, tmp_path):
    result = run_script(
        "train.py", "-m", *LIMIT, "activation=relu,tanh", f"paths.log_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = job_dirs(tmp_path)
    assert len(jobs) == 2 and len({j.parent for j in jobs}) == 1
    activations = {
        yaml.safe_load((j / "config.yaml").read_text())["activation"]["name"] for j in jobs
    }
    assert activations == {"relu", "tanh"}
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_joblib_launcher_runs_jobs_in_parallel_processes_on_distinct_device_slots(
    run_script, tmp_path
):
    # Each job waits at fit start until both have arrived, for at most 60 s (in parallel the
    # second arrives within a second): jobs run one after the other fail there, not hang.
    # Both hold their device slot at once, so the second cannot reuse a freed slot 0.
    arrived = tmp_path / "arrived"
    result = run_script(
        "train.py",
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "device_slots=2",
        *LIMIT,
        "dropout=none,standard",
        f"paths.log_dir={tmp_path}",
        "+callbacks.rendezvous._target_=tests.support.rendezvous.Rendezvous",
        f"+callbacks.rendezvous.folder={arrived}",
        "+callbacks.rendezvous.timeout_s=60",
    )
    assert result.returncode == 0, result.stderr[-2000:]  # also when jobs fail: see status
    records = [json.loads((j / "metrics.json").read_text()) for j in job_dirs(tmp_path)]
    assert [r["status"] for r in records] == ["completed", "completed"], result.stdout[-2000:]
    assert len(list(arrived.iterdir())) == 2  # one file per process id: two processes
    assert sorted(r["device_slot"] for r in records) == [0, 1]


@pytest.mark.slow
def test_optuna_search_returns_the_optimized_metric(run_script, tmp_path):
    result = run_script(
        "train.py",
        "hparams_search=optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=1",
        *LIMIT,
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = job_dirs(tmp_path)
    assert len(jobs) == 2
    found = yaml.safe_load(
        next(tmp_path.glob("train/multiruns/*/optimization_results.yaml")).read_text()
    )
    values = [json.loads((j / "metrics.json").read_text())["metrics"]["val/acc1"] for j in jobs]
    # Exact: each job hands Optuna its metrics.json value, and YAML writes a float's repr.
    assert found["best_value"] == max(values)
    assert set(found["best_params"]) == {"optimizer.lr", "dropout.p", "activation"}


def test_two_runs_started_together_never_share_a_dir(tmp_path):
    args = [
        sys.executable,
        "train.py",
        *TINY,
        "debug=fast_dev_run",
        "logger=none",
        f"paths.log_dir={tmp_path}",
    ]
    procs = [
        subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    assert len(list(tmp_path.glob("train/runs/*/metrics.json"))) == 2


def help_of(monkeypatch, capsys, *argv: str) -> str:
    """What `python train.py <argv>` prints for --help, its entry point run in this process."""
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    with pytest.raises(SystemExit) as stopped:
        train_command()
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_help_lists_the_groups(monkeypatch, capsys):
    shown = help_of(monkeypatch, capsys, "--help")
    for line in (
        "model: alexnet, four_layer, mini, paper2012",
        "dropout: none, standard",
        "optimizer: adam, adamw, sgd",
        "data: cifar10, cifar100, fashion_mnist, imagefolder, imagenette, mnist, stl10, synthetic",
        "trainer: auto, cpu, ddp, ddp_gpu, gpu",
        "experiment: demo, finetune, paper, torchvision_recipe",
        "debug: fast_dev_run, limit, overfit",
    ):
        assert line in shown, line
    groups = shown.split("== Config ==")[0]
    assert "schema" not in groups  # the typed schemas are no option a user chooses


def test_help_lists_the_users_own_groups_too(monkeypatch, capsys, tmp_path):
    (tmp_path / "optimizer").mkdir()
    (tmp_path / "optimizer" / "slow_sgd.yaml").write_text("defaults:\n  - sgd\n  - _self_\n")
    shown = help_of(monkeypatch, capsys, "--config-dir", str(tmp_path), "--help")
    assert "optimizer: adam, adamw, sgd, slow_sgd" in shown


def test_unknown_option_lists_the_valid_ones(run_script, tmp_path):
    result = run_script("train.py", "activation=swish", f"paths.log_dir={tmp_path}")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "error: activation='swish' is not valid; choose one of: elu, "
        "gelu, leaky_relu, relu, relu6, sigmoid, silu, tanh"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [  # tests/config/test_bad_overrides.py has the rest
        (
            ["data.batch_size=abc"],
            "error: data.batch_size='abc' is not valid; it must be an integer",
        ),
        (["optimizer.lr=0"], "error: optimizer.lr=0.0 is not valid; it must be a number > 0"),
        (
            ["data=imagefolder", "data.root=/no/such/dir"],
            "error: data root /no/such/dir does not exist or is not a folder",
        ),
        (
            ["trainer.precision=fp8"],
            "error: trainer='trainer=cpu trainer.precision=fp8' is not "
            "valid; ValueError: Precision 'fp8' is invalid.",
        ),
    ],
)
def test_bad_values_stop_with_one_line_and_leave_no_run_dir(
    monkeypatch, tmp_path, overrides, message
):
    assert error_of(
        monkeypatch,
        train_command,
        "train.py",
        "model=mini",
        "trainer=cpu",
        *overrides,
        f"paths.log_dir={tmp_path}",
    ).startswith(message)
    assert not list(tmp_path.glob("train/*/*"))  # nothing half-written


def test_a_label_count_that_does_not_match_the_data(monkeypatch, tmp_path, image_folder):
    error = error_of(
        monkeypatch,
        train_command,
        "train.py",
        "model=mini",
        "trainer=cpu",
        "data=imagefolder",
        f"data.root={image_folder}",
        "data.num_classes=5",
        f"paths.log_dir={tmp_path}",
    )
    assert error == (
        f"error: data.num_classes=5 is not valid; the data at {image_folder} has 3 "
        "classes; set it to 3 or null"
    )
    assert not list(tmp_path.glob("train/*/*"))


def error_of(monkeypatch, command, *argv: str) -> str:
    """The one-line message a command line exits with, run in this process (the entry points'
    exit codes and stderr are checked in real processes above and below)."""
    monkeypatch.setattr(sys, "argv", list(argv))
    with pytest.raises(SystemExit) as stopped:
        command()
    assert isinstance(stopped.value.code, str), stopped.value.code  # a message: exit status 1
    return stopped.value.code


@pytest.mark.slow
def test_eval_on_a_checkpoint_center_and_ten_crop(run_script, tmp_path, monkeypatch):
    # The training in this process; eval.py's centre crop a real process, its ten crop here.
    cfg = compose_train(*TINY, "trainer.max_epochs=1", "logger=none", output_dir=tmp_path / "run")
    train(cfg)
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    result = run_script(
        "eval.py",
        f"ckpt_path={ckpt}",
        "split=val",
        "data.eval_crop=center",
        "trainer=cpu",
        f"paths.log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "eval.py",
            f"ckpt_path={ckpt}",
            "split=val",  # in-process
            "data.eval_crop=ten_crop",
            "trainer=cpu",
            f"paths.log_dir={tmp_path}",
        ],
    )
    eval_command()
    written = {
        w["eval_crop"]: w
        for w in (json.loads(p.read_text()) for p in tmp_path.glob("eval/runs/*/metrics.json"))
    }
    assert sorted(written) == ["center", "ten_crop"]
    assert all(w["split"] == "val" for w in written.values())
    # The centre crop of the last checkpoint is what the run itself validated at its end; the
    # accuracy is a share of 6 images (1/6 apart), so within 1e-6 means the same predictions.
    trained = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written["center"]["metrics"]["val/acc1"] == pytest.approx(
        trained["metrics"]["val/acc1"], abs=1e-6
    )
    assert written["center"]["metrics"]["val/loss"] == pytest.approx(
        trained["metrics"]["val/loss"], abs=1e-5
    )


def test_eval_without_a_checkpoint_names_the_key(run_script, tmp_path):
    result = run_script("eval.py", "ckpt_path=/no/such.ckpt", f"paths.log_dir={tmp_path}")
    assert result.returncode != 0
    assert (
        "ckpt_path='/no/such.ckpt' is not valid; no such checkpoint file or run dir"
        in result.stderr
    )
