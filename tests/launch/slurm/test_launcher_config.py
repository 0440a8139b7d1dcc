"""The SLURM launcher's config, composed (no cluster needed)."""

import pytest

from alexnet.config.compose import compose_config


@pytest.mark.parametrize(
    ("trainer", "gpus"),
    [
        (["trainer=ddp"], None),
        (["trainer=cpu", "trainer.devices=2"], None),
        (["trainer=gpu"], 1),
        (["trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=4"], 4),
        (["trainer=ddp_gpu"], 2),
        (["trainer=ddp_gpu", "trainer.devices=8"], 8),
    ],
)
def test_gpus_are_requested_only_when_the_trainer_uses_them(trainer, gpus):
    cfg = compose_config(["hydra/launcher=slurm", *trainer], with_hydra=True)
    launcher = cfg.hydra.launcher
    assert launcher.gpus_per_node == gpus
    assert launcher.tasks_per_node == cfg.trainer.devices


def test_ddp_on_gpus_is_one_option_with_nccl_bf16_and_the_ddp_strategy():
    cfg = compose_config(["trainer=ddp_gpu"])
    assert (cfg.trainer.accelerator, cfg.trainer.precision, cfg.trainer.devices) == (
        "gpu",
        "bf16-mixed",
        2,
    )
    assert cfg.trainer.strategy._target_ == "alexnet.launch.distributed.HydraDDPStrategy"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["hydra.launcher.timeout_min=1", "hydra.launcher.signal_delay_s=60"],
            "error: hydra.launcher.signal_delay_s=60 is not valid; it must be smaller than "
            "hydra.launcher.timeout_min=1 (60 s): the job would be warned as it starts",
        ),
        (
            ["hydra.launcher.timeout_min=-3"],
            "error: hydra.launcher.timeout_min=-3 is not valid; it must be a number of minutes > 0 "
            "(the job's time limit)",
        ),
        (
            ["hydra.launcher.poll_s=0"],
            "error: hydra.launcher.poll_s=0.0 is not valid; it must be a number of seconds > 0",
        ),
    ],
)
def test_launcher_times_that_make_no_sense_are_refused_before_submission(
    run_script, tmp_path, overrides, message
):
    # Before any sbatch: no cluster needed, nothing submitted, one line naming the key.
    result = run_script(
        "train.py",
        "-m",
        "hydra/launcher=slurm",
        *overrides,
        f"hydra.sweep.dir={tmp_path}",
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == message
    assert not list(tmp_path.rglob("*.sh"))  # no job script written
