"""The SLURM launcher's config, composed (no cluster needed)."""

import pytest

from alexnet.config import compose_config


@pytest.mark.parametrize(("trainer", "gpus"), [
    (["trainer=ddp"], None), (["trainer=cpu", "trainer.devices=2"], None),
    (["trainer=gpu"], 1), (["trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=4"], 4),
    (["trainer=ddp_gpu"], 2), (["trainer=ddp_gpu", "trainer.devices=8"], 8)])
def test_gpus_are_requested_only_when_the_trainer_uses_them(trainer, gpus):
    cfg = compose_config(["hydra/launcher=slurm", *trainer], with_hydra=True)
    launcher = cfg.hydra.launcher
    assert launcher.gpus_per_node == gpus
    assert launcher.tasks_per_node == cfg.trainer.devices


def test_ddp_on_gpus_is_one_option_with_nccl_bf16_and_the_ddp_strategy():
    cfg = compose_config(["trainer=ddp_gpu"])
    assert (cfg.trainer.accelerator, cfg.trainer.precision, cfg.trainer.devices) == (
        "gpu", "bf16-mixed", 2)
    assert cfg.trainer.strategy._target_ == "alexnet.distributed.HydraDDPStrategy"
