"""Real `python train.py` / `eval.py` processes: multirun, joblib, Optuna, errors, eval."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TINY


def job_dirs(log_dir: Path) -> list[Path]:
    return sorted(p.parent for p in log_dir.glob("train/multiruns/*/*/metrics.json"))


LIMIT = [*TINY, "debug=limit", "trainer.max_epochs=1", "logger=csv"]


@pytest.mark.slow
def test_multirun_runs_one_dir_per_job(run_script, tmp_path):
    result = run_script("train.py", "-m", *LIMIT, "activation=relu,tanh",
                        f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = job_dirs(tmp_path)
    assert len(jobs) == 2 and len({j.parent for j in jobs}) == 1
    activations = {yaml.safe_load((j / "config.yaml").read_text())["activation"]["name"]
                   for j in jobs}
    assert activations == {"relu", "tanh"}
    for job in jobs:
        assert json.loads((job / "metrics.json").read_text())["status"] == "completed"


@pytest.mark.slow
def test_joblib_launcher_runs_jobs_in_parallel_processes(run_script, tmp_path):
    result = run_script("train.py", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                        *LIMIT,
                 "dropout=none,standard", f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(job_dirs(tmp_path)) == 2


@pytest.mark.slow
def test_optuna_search_returns_the_optimized_metric(run_script, tmp_path):
    result = run_script("train.py", "hparams_search=optuna", "hydra.sweeper.n_trials=2",
                 "hydra.sweeper.sampler.n_startup_trials=1", *LIMIT, f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = job_dirs(tmp_path)
    assert len(jobs) == 2
    found = yaml.safe_load(next(tmp_path.glob("train/multiruns/*/optimization_results.yaml"))
                           .read_text())
    values = [json.loads((j / "metrics.json").read_text())["metrics"]["val/acc1"] for j in jobs]
    assert found["best_value"] == pytest.approx(max(values))
    assert set(found["best_params"]) == {"optimizer.lr", "dropout.p", "activation"}


def test_two_runs_started_together_never_share_a_dir(tmp_path):
    args = [sys.executable, "train.py", *TINY, "debug=fast_dev_run", "logger=none",
            f"paths.log_dir={tmp_path}"]
    procs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()[-2000:]
    assert len(list(tmp_path.glob("train/runs/*/metrics.json"))) == 2


def test_help_lists_the_groups(run_script):
    result = run_script("train.py", "--help")
    assert result.returncode == 0
    for line in ("model: alexnet, four_layer, mini, paper2012", "dropout: none, standard",
                 "optimizer: adam, adamw, sgd",
                 "data: cifar10, cifar100, fashion_mnist, imagefolder, imagenette, mnist, stl10, "
                 "synthetic", "trainer: auto, cpu, ddp, gpu",
                 "experiment: demo, finetune, paper, torchvision_recipe",
                 "debug: fast_dev_run, limit, overfit"):
        assert line in result.stdout, line


def test_unknown_option_lists_the_valid_ones(run_script, tmp_path):
    result = run_script("train.py", "activation=swish", f"paths.log_dir={tmp_path}")
    assert result.returncode != 0
    assert result.stderr.strip() == ("error: activation='swish' is not valid; choose one of: elu, "
                                     "gelu, leaky_relu, relu, relu6, sigmoid, silu, tanh")


@pytest.mark.parametrize(("overrides", "message"), [  # tests/test_bad_overrides.py has the rest
    (["data.batch_size=abc"], "error: data.batch_size='abc' is not valid; it must be an integer"),
    (["optimizer.lr=0"], "error: optimizer.lr=0.0 is not valid; it must be a number > 0"),
    (["data=imagefolder", "data.root=/no/such/dir"],
     "error: data root /no/such/dir does not exist or is not a folder"),
])
def test_bad_values_stop_with_one_line_and_leave_no_run_dir(run_script, tmp_path, overrides,
                                                           message):
    assert last_error_line(run_script, tmp_path, overrides) == message


def last_error_line(run_script, tmp_path, overrides: list[str]) -> str:
    """The stderr of a train.py process that must fail and leave no run dir: one line."""
    result = run_script("train.py", "model=mini", "trainer=cpu", *overrides,
                        f"paths.log_dir={tmp_path}")
    assert result.returncode != 0
    assert not list(tmp_path.glob("train/runs/*"))  # nothing half-written
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    return errors[0]


@pytest.mark.parametrize(("overrides", "start"), [
    (["trainer.precision=fp8"], "error: trainer='trainer=cpu trainer.precision=fp8' is not "
                                "valid; "
                                "ValueError: Precision 'fp8' is invalid."),
])
def test_values_lightning_rejects_stop_with_one_line(run_script, tmp_path, overrides, start):
    assert last_error_line(run_script, tmp_path, overrides).startswith(start)


def test_a_label_count_that_does_not_match_the_data(run_script, tmp_path, image_folder):
    result = run_script("train.py", "model=mini", "trainer=cpu", "data=imagefolder",
                 f"data.root={image_folder}", "data.num_classes=5", f"paths.log_dir={tmp_path}")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: data.num_classes=5 is not valid; the data at {image_folder} has 3 classes; "
        "set it to 3 or null")
    assert not list(tmp_path.glob("train/runs/*"))


@pytest.mark.slow
def test_eval_on_a_checkpoint_center_and_ten_crop(run_script, tmp_path):
    result = run_script("train.py", *TINY, "trainer.max_epochs=1", "logger=none",
                 f"paths.log_dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-2000:]
    ckpt = next(tmp_path.glob("train/runs/*/checkpoints/last.ckpt"))
    for crop in ("center", "ten_crop"):
        result = run_script("eval.py", f"ckpt_path={ckpt}", "split=val", f"data.eval_crop={crop}",
                     "trainer=cpu", f"paths.log_dir={tmp_path}")
        assert result.returncode == 0, result.stderr[-2000:]
    written = {w["eval_crop"]: w for w in (json.loads(p.read_text())
                                          for p in tmp_path.glob("eval/runs/*/metrics.json"))}
    assert sorted(written) == ["center", "ten_crop"]
    assert all(w["split"] == "val" for w in written.values())
    # The centre crop of the last checkpoint is what the run itself validated at its end.
    trained = json.loads(next(tmp_path.glob("train/runs/*/metrics.json")).read_text())
    assert written["center"]["metrics"]["val/acc1"] == trained["metrics"]["val/acc1"]
    assert written["center"]["metrics"]["val/loss"] == pytest.approx(
        trained["metrics"]["val/loss"], abs=1e-5)


def test_eval_without_a_checkpoint_names_the_key(run_script, tmp_path):
    result = run_script("eval.py", "ckpt_path=/no/such.ckpt", f"paths.log_dir={tmp_path}")
    assert result.returncode != 0
    assert "ckpt_path='/no/such.ckpt' is not valid; no such checkpoint file or run dir" in \
        result.stderr
