"""Canary for the submitit plugin's internals that alexnet/launch/slurm_launcher.py relies on (its
`launch` is re-implemented, and each job calls the launcher through `executor.map_array(self,
...)` with the plugin's own five arguments): a release that changes them fails here first,
naming what moved, without a SLURM cluster."""

import inspect

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    BaseSubmititLauncher,
    SlurmLauncher,
)

from alexnet.launch.slurm_launcher import RequeueingSlurm


def test_the_plugin_internals_the_slurm_launcher_uses_are_still_there():
    called = list(inspect.signature(BaseSubmititLauncher.__call__).parameters)
    assert called == [
        "self",
        "sweep_overrides",
        "job_dir_key",
        "job_num",
        "job_id",
        "singleton_state",
    ], f"submitit plugin: __call__ takes {called} now; slurm_launcher.launch passes the old five"
    launch = list(inspect.signature(BaseSubmititLauncher.launch).parameters)
    assert launch == ["self", "job_overrides", "initial_job_idx"], launch
    assert callable(getattr(BaseSubmititLauncher, "checkpoint", None))  # submitit asks it
    assert issubclass(RequeueingSlurm, SlurmLauncher)
    init = inspect.signature(BaseSubmititLauncher.__init__).parameters
    assert "params" in inspect.getsource(BaseSubmititLauncher.__init__) and len(init) >= 1
    assert "self.config" in inspect.getsource(BaseSubmititLauncher.setup)
