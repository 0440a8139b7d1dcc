"""DDP inside Hydra jobs: every rank of a job runs that job's config, in that job's dir.

Lightning starts ranks 1..N-1 by re-running the command line. Under a Hydra multirun that line is
the whole sweep (`-m activation=relu,tanh`), so every rank would run its own sweep in its own
dirs (Lightning issue 11300). Here the extra ranks re-run the job instead: the job's composed
config, saved by Hydra in <job dir>/.hydra/config.yaml, with the job dir as their run dir. That
holds for every launcher and sweeper (basic, joblib, Optuna): a trial's sampled values are in
its config. On SLURM, srun starts the ranks and none of this is needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import torch.distributed as dist
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.strategies.launchers import subprocess_script
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

from alexnet.config import CONF_DIR

# What the launcher sets in this process's environment to start the ranks.
LAUNCH_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


def rank_command(local_rank: int) -> tuple[Sequence[str], str]:
    """The command and cwd that start `local_rank` of the current Hydra job."""
    hydra = HydraConfig.get()
    job_dir = Path(hydra.runtime.output_dir)
    script = Path(sys.argv[0])
    if script.suffix != ".py" or not script.is_file():  # e.g. inside a joblib worker
        script = CONF_DIR.parent / "train.py"
    command = [
        sys.executable, str(script.resolve()),
        "--config-path", str(job_dir / hydra.output_subdir),
        "--config-name", "config",
        f"hydra.run.dir={job_dir}",
        "hydra.output_subdir=null",           # rank 0 has written .hydra/ already
        f"hydra.job.name=rank_{local_rank}",
        "hydra/job_logging=stdout",           # no log file of its own: the job's log is rank 0's
    ]
    return command, hydra.runtime.cwd


class JobScriptLauncher(_SubprocessScriptLauncher):
    """Lightning's script launcher, starting the extra ranks with `rank_command`."""

    def _call_children_scripts(self) -> None:
        self.saved_env = {key: os.environ.get(key) for key in LAUNCH_ENV}
        if not HydraConfig.initialized():
            super()._call_children_scripts()
            return
        with mock.patch.object(subprocess_script, "_hydra_subprocess_cmd", rank_command):
            super()._call_children_scripts()

    def restore(self) -> None:
        """Leave the process as before the launch, so that the next job of a sweep starts its
        own ranks (with the launch variables still set it would wait for ranks never started)."""
        for child in self.procs:
            child.wait()
        for key, value in getattr(self, "saved_env", {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class HydraDDPStrategy(DDPStrategy):
    """DDPStrategy whose extra ranks run the current Hydra job (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def _configure_launcher(self) -> None:
        super()._configure_launcher()
        if type(self._launcher) is _SubprocessScriptLauncher:
            self._launcher = JobScriptLauncher(self.cluster_environment, self.num_processes,
                                               self.num_nodes)

    def end_job(self) -> None:
        """After the job's last fit/test: wait for the extra ranks, close the process group and
        restore the environment, so that the next job of a sweep in this process starts anew."""
        if isinstance(self._launcher, JobScriptLauncher) and self._launcher.procs:
            self._launcher.restore()
            if dist.is_available() and dist.is_initialized():
                dist.destroy_process_group()
