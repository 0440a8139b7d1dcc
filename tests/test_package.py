"""The package as a user installs it: a wheel in a fresh venv, commands run from any dir, and
config groups of the user's own added with Hydra's --config-dir."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from alexnet.cli.main import train_command
from tests.conftest import ROOT, TINY
from tests.support.train_runs import command_exit

TRAIN = [*TINY, "debug=fast_dev_run", "logger=none", "callbacks=none"]


def _copy_of_the_checkout(to: Path) -> Path:
    """The files git would commit (setuptools builds in the source tree: not in this one)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, to / name)
    return to


def _env() -> dict[str, str]:
    """No PYTHONPATH: the package must come from where it was installed, not the checkout."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _venv_beside_this_environment(venv: Path) -> Path:
    """A fresh venv that also sees the packages of the environment running the tests. Inside a
    venv, ``--system-site-packages`` would give the base interpreter's packages (no torch): this
    environment's site-packages are appended to its path by a .pth file (as plain paths: the
    .pth files there, such as an editable install of the lab, are not run)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    if sys.prefix != sys.base_prefix:
        ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
        (site,) = venv.glob("lib/python*/site-packages")
        (site / "_tests_parent_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_its_commands_run_from_any_dir(tmp_path):
    source, dist = _copy_of_the_checkout(tmp_path / "source"), tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("alexnet_lab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "alexnet/config/conf/train.yaml",
        "alexnet/config/conf/hydra/launcher/slurm.yaml",
        "alexnet/launch/slurm_task.sh",
        "hydra_plugins/alexnet_sweeper/__init__.py",
    } <= names
    assert not [n for n in names if n.startswith(("experiments/", "tests/"))]  # the lab's own
    # The venv sees this environment's torch, Lightning, Hydra... (reinstalling them would take
    # minutes and gigabytes); the package itself comes only from the wheel.
    venv = _venv_beside_this_environment(tmp_path / "venv")
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import alexnet, hydra_plugins.alexnet_sweeper as s; "
            "print(alexnet.__file__); print(s.__file__)",
        ],
        cwd=elsewhere,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr[-2000:]
    assert all(Path(p).is_relative_to(venv) for p in where.stdout.split()), where.stdout
    done = subprocess.run(
        [str(venv / "bin" / "alexnet-train"), *TRAIN],
        cwd=elsewhere,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((elsewhere / "logs" / "train" / "runs").glob("*/metrics.json"))) == 1
    described = subprocess.run(
        [str(venv / "bin" / "alexnet-describe"), "model=mini"],
        cwd=elsewhere,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert described.returncode == 0 and "3,002,664 parameters" in described.stdout
    for command, *args in (("alexnet-predict", "input=x"), ("alexnet-export",)):
        composed = subprocess.run(  # the installed commands find their own configs
            [str(venv / "bin" / command), "--cfg", "job", *args],
            cwd=elsewhere,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        name = command.removeprefix("alexnet-")
        assert f"task_name: {name}" in composed.stdout, composed.stderr[-2000:]


@pytest.mark.slow
def test_a_config_group_of_ones_own_joins_with_config_dir(monkeypatch, tmp_path):
    # train.py's entry point in this process (its exit status and stderr: tests/config/)
    mine = tmp_path / "my_conf" / "optimizer"
    mine.mkdir(parents=True)
    (mine / "slow_sgd.yaml").write_text("defaults:\n  - sgd\n  - _self_\nlr: 0.00123\n")
    config_dir = str(tmp_path / "my_conf")
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "train.py",
            "--config-dir",
            config_dir,
            "optimizer=slow_sgd",
            *TRAIN,
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
    )
    train_command()  # completes: no SystemExit
    assert "lr: 0.00123" in (tmp_path / "run" / "config.yaml").read_text()
    typo = command_exit(
        monkeypatch, "train.py", "--config-dir", config_dir, "optimizer=slow_sdg", *TRAIN
    )
    assert typo == (  # a message: exit status 1
        "error: optimizer='slow_sdg' is not valid; choose one of: adam, adamw, sgd, slow_sgd"
    )
