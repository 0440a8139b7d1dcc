"""`hydra/launcher=slurm`: a SLURM launcher on submitit that survives time limits and failures
(hydra_plugins/alexnet_launcher names it for Hydra).

It is the submitit plugin's SlurmLauncher (its job entry point, its schema, submitit's public
executor) with what differs: tasks start through slurm_task.sh, the batch shell records early
signals, the launcher's times are checked before submission, a refused submission is one line,
and results are collected without trusting submitit's sacct-only watch.

One mechanism requeues a job, and it is Lightning-style: the warning signal (submitit's USR2,
sent `signal_delay_s` before the limit or at a preemption) only sets a flag (launch/requeue.py);
the training loop saves a checkpoint at the next batch boundary, requeues the job with `scontrol
requeue` and exits; the requeued job resumes from that checkpoint in the same run dir.
Submitit's checkpoint-and-requeue (which restarts the task from its start) and Lightning's
auto-requeue (which saves from inside the signal handler, mid-step) are both off.

A refused submission is one line (what sbatch said, the keys to change); a job that ends
without a result (killed, out of memory, a node lost) is noticed within `poll_s` +
`vanished_grace_s` with or without SLURM's accounting (alexnet/launch/slurm_jobs.py), recorded as
failed in its metrics.json with SLURM's reason, and the sweep goes on.
"""

import contextlib
import io
import logging
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf, SlurmQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
from omegaconf import OmegaConf

from alexnet.errors import InvalidValue
from alexnet.launch.requeue import batch_signal_setup, install_signal_flag, task_python
from alexnet.record import mark_failed

log = logging.getLogger(__name__)
# The plugin's executor-agnostic keys pass as they are; the others become slurm_<key>.
GENERIC = set(OmegaConf.structured(BaseQueueConf).keys())
OURS = {"submitit_folder", "max_num_timeout", "poll_s", "vanished_grace_s"}  # not for sbatch


@dataclass
class RequeueingSlurmConf(SlurmQueueConf):
    """submitit's SLURM options and this launcher's own
    (alexnet/config/conf/hydra/launcher/slurm.yaml)."""

    _target_: str = "hydra_plugins.alexnet_launcher.RequeueingSlurmLauncher"
    poll_s: float = 10.0
    vanished_grace_s: float = 30.0


class RequeueingSlurm(SlurmLauncher):
    """The submitit plugin's SlurmLauncher with the requeue, error and failure handling of the
    module's docstring."""

    def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
        install_signal_flag()  # in the job, before the run starts
        return super().__call__(*args, **kwargs)

    def checkpoint(self, *args: Any, **kwargs: Any) -> None:
        """None tells submitit's own signal handler not to resubmit the job."""
        return None

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        import submitit
        from submitit.core.utils import FailedJobError

        assert self.config is not None
        check_timing(self.params)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        executor = submitit.AutoExecutor(
            cluster="slurm",
            folder=self.params["submitit_folder"],
            slurm_max_num_timeout=self.params.get("max_num_timeout", 0),
            slurm_python=task_python(shlex.quote(sys.executable)),
        )
        parameters = {
            key if key in GENERIC else f"slurm_{key}": value
            for key, value in self.params.items()
            if key not in OURS
        }
        # The batch shell must not die of a warning signal either (`scancel --signal --full`);
        # one that comes before srun has started the tasks is recorded for them to read.
        parameters["slurm_setup"] = [*batch_signal_setup(), *(parameters.get("slurm_setup") or [])]
        executor.update_parameters(**parameters)
        numbers = range(initial_job_idx, initial_job_idx + len(job_overrides))
        for number, overrides in zip(numbers, job_overrides):
            log.info("\t#%d : %s", number, " ".join(filter_overrides(overrides)))
        arguments = [
            (
                list(overrides),
                "hydra.sweep.dir",
                number,
                f"job_id_for_{number}",
                Singleton.get_state(),
            )
            for number, overrides in zip(numbers, job_overrides)
        ]
        log.info("SLURM sweep dir: %s", sweep_dir)
        captured = io.StringIO()  # submitit prints sbatch's stderr itself before raising
        try:
            with contextlib.redirect_stderr(captured):
                jobs = executor.map_array(self, *zip(*arguments))
        except FailedJobError as err:
            sys.exit(f"error: {submission_error(str(err) or captured.getvalue())}")
        wait = (
            float(self.params.get("poll_s", 10)),
            float(self.params.get("vanished_grace_s", 30)),
        )
        return [
            _result(job, overrides, sweep_dir / str(number), *wait)
            for job, overrides, number in zip(jobs, job_overrides, numbers)
        ]


def check_timing(params: dict[str, Any]) -> None:
    """The launcher's times make sense (the warning signal before the time limit, a poll period
    and a grace that are numbers of seconds): else InvalidValue naming the key, before anything
    is submitted (the command line's override check calls this too, for its one line)."""
    for key, low in (("poll_s", 0.0), ("vanished_grace_s", None)):
        value = params.get(key)
        if value is not None and not (float(value) > low if low is not None else float(value) >= 0):
            bound = "> 0" if low is not None else ">= 0"
            raise InvalidValue(
                f"hydra.launcher.{key}", value, f"it must be a number of seconds {bound}"
            )
    delay, limit = params.get("signal_delay_s"), params.get("timeout_min")
    if limit is not None and float(limit) <= 0:
        raise InvalidValue(
            "hydra.launcher.timeout_min",
            limit,
            "it must be a number of minutes > 0 (the job's time limit)",
        )
    if delay is not None and limit is not None and float(delay) >= 60 * float(limit):
        raise InvalidValue(
            "hydra.launcher.signal_delay_s",
            delay,
            f"it must be smaller than hydra.launcher.timeout_min={limit} "
            f"({60 * float(limit):g} s): the job would be warned as it starts",
        )


def _result(
    job: Any, overrides: Sequence[str], job_dir: Path, poll_s: float, grace_s: float
) -> JobReturn:
    """The job's JobReturn; a job that ended without one (killed, out of memory, a node lost)
    becomes a failed JobReturn, logged and written to its metrics.json, so that the other jobs'
    results are still collected."""
    from alexnet.launch.slurm_jobs import wait_for_result

    ended = wait_for_result(job.job_id, Path(job.paths.result_pickle), poll_s, grace_s)
    if ended is not None:
        error = (
            f"SLURM job {job.job_id} ended without a result: "
            f"{ended.state or 'vanished'} ({ended.reason})"
        )
        log.error("%s; recorded as failed, the sweep goes on", error)
        mark_failed(job_dir, error)
        return _failed(overrides)
    try:
        return job.results()[0]
    except Exception as err:  # noqa: BLE001 - any way a job can die is a failed job here
        said = (str(err).strip().splitlines() or [type(err).__name__])[-1]
        log.error("SLURM job %s died without a result: %s", job.job_id, said)
        mark_failed(job_dir, f"SLURM job {job.job_id} died without a result: {said}")
        return _failed(overrides)


def _failed(overrides: Sequence[str]) -> JobReturn:
    """A job that failed, as the sweep sees one that failed inside train.py: it returned None
    (its metrics.json says why); a FAILED JobReturn would stop the whole sweep in Hydra."""
    return JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED)


def submission_error(stderr: str) -> str:
    """One line: what sbatch said, and the launcher keys that shape the request."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
    return (
        f"sbatch refused the job: {said or 'no reason given'}; check "
        "hydra.launcher.partition, hydra.launcher.gpus_per_node (from trainer.accelerator and "
        "trainer.devices), hydra.launcher.cpus_per_task, hydra.launcher.mem_gb and "
        "hydra.launcher.timeout_min"
    )
