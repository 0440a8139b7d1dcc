"""The SLURM launcher's config, composed (no cluster needed)."""

import pytest

from alexnet.config import compose_config


@pytest.mark.parametrize(("trainer", "gpus"), [
    (["trainer=ddp"], None), (["trainer=cpu", "trainer.devices=2"], None),
    (["trainer=gpu"], 1), (["trainer=ddp", "trainer.accelerator=gpu", "trainer.devices=4"], 4)])
def test_gpus_are_requested_only_when_the_trainer_uses_them(trainer, gpus):
    cfg = compose_config(["hydra/launcher=slurm", *trainer], with_hydra=True)
    launcher = cfg.hydra.launcher
    assert launcher.gpus_per_node == gpus
    assert launcher.tasks_per_node == cfg.trainer.devices
