"""DDP inside Hydra jobs: every rank of a job runs that job's config, in that job's dir.

Lightning starts ranks 1..N-1 by re-running the command line. Under a Hydra multirun that line is
the whole sweep (`-m activation=relu,tanh`), so every rank would run its own sweep in its own
dirs (Lightning issue 11300). Here the extra ranks re-run the job instead: the job's composed
config, saved by Hydra in <job dir>/.hydra/config.yaml, with the job dir as their run dir. That
holds for every launcher and sweeper (basic, joblib, Optuna): a trial's sampled values are in
its config. On SLURM, srun starts the ranks and none of this is needed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import torch.distributed as dist
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.strategies import DDPStrategy
from lightning.pytorch.strategies.launchers import subprocess_script
from lightning.pytorch.strategies.launchers.subprocess_script import _SubprocessScriptLauncher

log = logging.getLogger(__name__)

# What the launcher sets in this process's environment to start the ranks.
LAUNCH_ENV = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")
RANK_ERRORS = "rank_errors"  # in the job dir: one line per rank that failed
KILL_GRACE_S = 5.0  # between SIGTERM and SIGKILL for a rank that must end


class RankFailed(RuntimeError):
    """Another rank of this DDP job failed: its rank and its error, in one line."""


def rank_command(local_rank: int) -> tuple[Sequence[str], str]:
    """The command and cwd that start `local_rank` of the current Hydra job."""
    hydra = HydraConfig.get()
    job_dir = Path(hydra.runtime.output_dir)
    task = hydra.job.config_name if hydra.job.config_name in ("train", "eval") else "train"
    command = [
        sys.executable,
        "-m",
        "alexnet",
        task,  # however rank 0 started: script, console, joblib
        "--config-path",
        str(job_dir / hydra.output_subdir),
        "--config-name",
        "config",
        f"hydra.run.dir={job_dir}",
        "hydra.output_subdir=null",  # rank 0 has written .hydra/ already
        f"hydra.job.name=rank_{local_rank}",
        "hydra/job_logging=stdout",  # no log file of its own: the job's log is rank 0's
    ]
    return command, hydra.runtime.cwd


class JobScriptLauncher(_SubprocessScriptLauncher):
    """Lightning's script launcher, starting the extra ranks with `rank_command`, without
    Lightning's child-process observer: that thread SIGKILLs this process 0-5 s after any rank
    exits non-zero, including the ranks this process stops itself when a rank fails, so rank
    zero lost its metrics.json and its one-line error at random. HydraDDPStrategy bounds every
    wait instead (its `timeout_s`, `end_process`, `restore`)."""

    def launch(self, function: Callable, *args: Any, **kwargs: Any) -> Any:
        with mock.patch.object(subprocess_script, "_launch_process_observer", _no_observer):
            return super().launch(function, *args, **kwargs)

    def _call_children_scripts(self) -> None:
        self.saved_env = {key: os.environ.get(key) for key in LAUNCH_ENV}
        if not HydraConfig.initialized():
            super()._call_children_scripts()
            return
        with mock.patch.object(subprocess_script, "_hydra_subprocess_cmd", rank_command):
            super()._call_children_scripts()

    def restore(self, timeout_s: float) -> None:
        """Leave the process as before the launch, so that the next job of a sweep starts its
        own ranks (with the launch variables still set it would wait for ranks never started).
        A rank still running `timeout_s` after the job is killed, and the log says so."""
        for local_rank, child in enumerate(self.procs, start=1):
            try:
                child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.error(
                    "rank %d did not end within %.0f s of the job's end: killed",
                    local_rank,
                    timeout_s,
                )
                end_process(child)
        for key, value in getattr(self, "saved_env", {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _no_observer(child_processes: list[subprocess.Popen]) -> None:
    """In place of Lightning's `_launch_process_observer` (see JobScriptLauncher)."""


def end_process(child: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after KILL_GRACE_S; waits at most that long twice."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=KILL_GRACE_S)


class HydraDDPStrategy(DDPStrategy):
    """DDPStrategy whose extra ranks run the current Hydra job (see the module docstring), and
    whose job ends promptly when one rank fails.

    Args:
        timeout_s: the process group's timeout: the longest any rank waits in a collective
            (torch's default, 30 minutes, would keep a job whose rank died waiting that long).
            Raise it when rank zero's work between collectives (pictures, checkpoints on a
            slow disk) can take longer.

    A rank that raises writes its error in one line to <job dir>/rank_errors/; rank zero
    stops the ranks it started at once; a rank left waiting on a dead one ends within
    `timeout_s` with RankFailed naming the failed rank and its error.
    """

    def __init__(self, timeout_s: float = 120.0, **kwargs: Any) -> None:
        if not timeout_s > 0:
            from alexnet.errors import InvalidValue

            raise InvalidValue(
                "trainer.strategy.timeout_s", timeout_s, "it must be a number of seconds > 0"
            )
        super().__init__(timeout=timedelta(seconds=timeout_s), **kwargs)
        self.timeout_s = float(timeout_s)

    def _configure_launcher(self) -> None:
        super()._configure_launcher()
        if type(self._launcher) is _SubprocessScriptLauncher:
            self._launcher = JobScriptLauncher(
                self.cluster_environment, self.num_processes, self.num_nodes
            )

    def setup_environment(self) -> None:
        super().setup_environment()
        if self.global_rank == 0:  # errors of an earlier attempt in this dir are not this one's
            shutil.rmtree(self._errors_dir(), ignore_errors=True)

    def _errors_dir(self) -> Path:
        return Path(self.lightning_module.trainer.default_root_dir) / RANK_ERRORS

    def on_exception(self, exception: BaseException) -> None:
        super().on_exception(exception)
        if isinstance(exception, SystemExit):  # a requeue (requeue.Requeued): no failure
            return
        first = (str(exception).strip().splitlines() or [""])[0]
        line = f"{type(exception).__name__}: {first}"
        folder = self._errors_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"rank_{self.global_rank}.txt").write_text(line + "\n")
        if isinstance(self._launcher, JobScriptLauncher):  # rank zero: stop the ranks it started
            for child in self._launcher.procs:
                end_process(child)

    def explain(self, exception: BaseException) -> BaseException:
        """`exception` as RankFailed in one line naming the rank that failed first (this one,
        or another whose failure this rank ran into: a collective that timed out or lost its
        peer)."""
        folder = self._errors_dir()
        failed = (
            sorted(folder.glob("rank_*.txt"), key=lambda p: p.stat().st_mtime)
            if folder.is_dir()
            else []
        )
        if self.world_size < 2 or not failed:
            return exception
        rank = failed[0].stem.split("_")[1]
        stopped = (
            ""
            if rank == str(self.global_rank)
            else f" (rank {self.global_rank} stopped: {type(exception).__name__})"
        )
        return RankFailed(f"rank {rank} failed: {failed[0].read_text().strip()}{stopped}")

    def end_job(self) -> None:
        """After the job's last fit/test: wait for the extra ranks (at most the process group's
        timeout, then they are killed), close the process group and restore the environment,
        so that the next job of a sweep in this process starts anew."""
        if isinstance(self._launcher, JobScriptLauncher) and self._launcher.procs:
            self._launcher.restore(self.timeout_s)
            if dist.is_available() and dist.is_initialized():
                dist.destroy_process_group()
