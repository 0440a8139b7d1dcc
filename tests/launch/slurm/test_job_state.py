"""What the launcher learns of a job, without a cluster: scontrol first, sacct when the controller
has forgotten the job (accounting on), neither (accounting off: the job vanished); and the
bounded wait for a job's result. Fake `scontrol` and `sacct` commands stand in on PATH."""

import os
import stat

import pytest

from alexnet.launch.slurm_jobs import JobState, job_state, wait_for_result


def fake_command(folder, name, output=None):
    """An executable `name` in `folder` that prints `output` (or fails, as sacct does without
    accounting)."""
    path = folder / name
    body = (
        f"cat <<'EOF'\n{output}\nEOF\n"
        if output is not None
        else "echo 'Slurm accounting storage is disabled' >&2\nexit 1\n"
    )
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def test_the_controller_names_the_state_and_reason(fake_slurm):
    fake_command(
        fake_slurm,
        "scontrol",
        "JobId=12 ArrayJobId=12 JobName=x JobState=FAILED "
        "Reason=NonZeroExitCode Dependency=(null) ExitCode=0:9",
    )
    fake_command(fake_slurm, "sacct")
    state = job_state("12_0")
    assert state == JobState("FAILED", "Reason=NonZeroExitCode, ExitCode=0:9") and state.ended


def test_accounting_answers_for_a_job_the_controller_forgot(fake_slurm):
    fake_command(fake_slurm, "scontrol")  # slurm_load_jobs error: Invalid job id specified
    fake_command(fake_slurm, "sacct", "OUT_OF_MEMORY|0:125|None\nOUT_OF_MEMORY|0:125|")
    state = job_state("12_0")
    assert state.state == "OUT_OF_MEMORY" and "(sacct)" in state.reason and state.ended


def test_without_accounting_a_forgotten_job_has_vanished(fake_slurm):
    fake_command(fake_slurm, "scontrol")
    fake_command(fake_slurm, "sacct")
    state = job_state("12_0")
    assert state.state is None and state.ended and "no longer known" in state.reason


def test_a_pending_or_running_job_has_not_ended():
    assert not JobState("PENDING", "Reason=BeginTime").ended  # a requeued job waits so
    assert not JobState("RUNNING", "").ended


def states(*sequence):
    """A state_of that answers `sequence`, then its last state for ever."""
    answers = list(sequence)
    return lambda job_id: answers.pop(0) if len(answers) > 1 else answers[0]


def test_a_job_that_ended_without_its_result_is_given_up_after_the_grace(tmp_path):
    sleeps = []
    ended = wait_for_result(
        "1",
        tmp_path / "result.pkl",
        poll_s=2,
        grace_s=6,
        state_of=states(JobState("RUNNING", ""), JobState("FAILED", "why")),
        sleep=sleeps.append,
    )
    assert ended == JobState("FAILED", "why")
    assert sum(sleeps) == 2 + 6  # one poll while running, then the grace in polls


def test_a_result_written_within_the_grace_is_taken(tmp_path):
    result = tmp_path / "result.pkl"

    def sleep(seconds):
        result.touch()  # the result lands (e.g. over NFS) just after the job ended

    assert wait_for_result("1", result, 2, 6, states(JobState("COMPLETED", "")), sleep) is None


def test_a_requeued_job_is_waited_for_again(tmp_path):
    result, polls = tmp_path / "result.pkl", []

    def state_of(job_id):
        polls.append(job_id)
        if len(polls) == 6:
            result.touch()
        # ended for a moment (requeue), then pending and running again: never given up
        return JobState(
            "COMPLETING" if len(polls) < 2 else "FAILED" if len(polls) == 2 else "PENDING", ""
        )

    assert wait_for_result("1", result, 1, 3, state_of, sleep=lambda s: None) is None
    assert len(polls) == 6
