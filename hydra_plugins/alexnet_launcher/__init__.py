"""`hydra/launcher=slurm`: a SLURM launcher on submitit that survives time limits and failures.

One mechanism requeues a job, and it is Lightning-style: the warning signal (submitit's USR2,
sent `signal_delay_s` before the limit or at a preemption) only sets a flag (alexnet/requeue.py);
the training loop saves a checkpoint at the next batch boundary, requeues the job with `scontrol
requeue` and exits; the requeued job resumes from that checkpoint in the same run dir.
Submitit's checkpoint-and-requeue (which restarts the task from its start) and Lightning's
auto-requeue (which saves from inside the signal handler, mid-step) are both off.

A refused submission is one line (what sbatch said, the keys to change); a job that dies
without a result is logged and left to the sweep's summary as failed, and the sweep goes on.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher

log = logging.getLogger(__name__)
# Keys submitit takes without the executor's prefix; the others become slurm_<key>.
GENERIC = {"timeout_min", "cpus_per_task", "gpus_per_node", "tasks_per_node", "mem_gb", "nodes",
           "name", "stderr_to_stdout"}


class RequeueingSlurmLauncher(SlurmLauncher):
    """The submitit plugin's SlurmLauncher with the requeue, error and failure handling of the
    module's docstring."""

    def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
        from alexnet.requeue import install_signal_flag  # in the job, before the run starts

        install_signal_flag()
        return super().__call__(*args, **kwargs)

    def checkpoint(self, *args: Any, **kwargs: Any) -> None:
        """None tells submitit's own signal handler not to resubmit the job."""
        return None

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        import submitit
        from submitit.core.utils import FailedJobError

        assert self.config is not None
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        executor = submitit.AutoExecutor(
            cluster="slurm", folder=self.params["submitit_folder"],
            slurm_max_num_timeout=self.params.get("max_num_timeout", 0))
        executor.update_parameters(**{
            key if key in GENERIC else f"slurm_{key}": value
            for key, value in self.params.items()
            if key not in ("submitit_folder", "max_num_timeout")})
        numbers = range(initial_job_idx, initial_job_idx + len(job_overrides))
        for number, overrides in zip(numbers, job_overrides):
            log.info("\t#%d : %s", number, " ".join(filter_overrides(overrides)))
        arguments = [(list(overrides), "hydra.sweep.dir", number, f"job_id_for_{number}",
                      Singleton.get_state()) for number, overrides in zip(numbers, job_overrides)]
        log.info("SLURM sweep dir: %s", sweep_dir)
        captured = io.StringIO()  # submitit prints sbatch's stderr itself before raising
        try:
            with contextlib.redirect_stderr(captured):
                jobs = executor.map_array(self, *zip(*arguments))
        except FailedJobError as err:
            sys.exit(f"error: {submission_error(str(err) or captured.getvalue())}")
        return [_result(job, overrides) for job, overrides in zip(jobs, job_overrides)]


def _result(job: Any, overrides: Sequence[str]) -> JobReturn:
    """The job's JobReturn; a job that died without one (killed, out of memory, a node lost)
    becomes a failed JobReturn, logged, so that the other jobs' results are still collected."""
    try:
        return job.results()[0]
    except Exception as err:  # noqa: BLE001 - any way a job can die is a failed job here
        log.error("SLURM job %s died without a result: %s", job.job_id,
                  str(err).strip().splitlines()[-1:] or type(err).__name__)
        return JobReturn(overrides=list(overrides), status=JobStatus.FAILED, _return_value=err)


def submission_error(stderr: str) -> str:
    """One line: what sbatch said, and the launcher keys that shape the request."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
    return (f"sbatch refused the job: {said or 'no reason given'}; check "
            "hydra.launcher.partition, hydra.launcher.gpus_per_node (from trainer.accelerator and "
            "trainer.devices), hydra.launcher.cpus_per_task, hydra.launcher.mem_gb and "
            "hydra.launcher.timeout_min")
