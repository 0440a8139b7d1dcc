"""Hydra finds launchers only in the hydra_plugins package: this names the one of
`hydra/launcher=slurm` (the body is alexnet/launch/slurm_launcher.py)."""

from hydra.core.config_store import ConfigStore

from alexnet.launch.slurm_launcher import RequeueingSlurm, RequeueingSlurmConf

ConfigStore.instance().store(
    group="hydra/launcher", name="requeueing_slurm", node=RequeueingSlurmConf, provider="alexnet"
)


class RequeueingSlurmLauncher(RequeueingSlurm):
    """SLURM through submitit, requeued at time limits, failures noticed without accounting."""
