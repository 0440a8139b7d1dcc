"""compile=true compiles the model when fitting starts, never when a module is only built (to
evaluate, inspect or interpret a checkpoint)."""

import torch

from alexnet import AlexNetModule

MINI = {"preset": "mini", "num_classes": 3}


def compiled(module: AlexNetModule) -> bool:
    # nn.Module.compile() stores the compiled call here; there is no public accessor.
    return getattr(module.model, "_compiled_call_impl", None) is not None


def test_compile_waits_for_fit(tmp_path):
    module = AlexNetModule(model=MINI, compile=True)
    assert not compiled(module)
    for stage in ("validate", "test", "predict"):
        module.setup(stage)
        assert not compiled(module), stage
    module.setup("fit")
    assert compiled(module)
    assert list(module.state_dict()) == list(AlexNetModule(model=MINI).state_dict())


def test_a_checkpoint_of_a_compiled_run_loads_uncompiled(tmp_path):
    module = AlexNetModule(model=MINI, compile=True)
    path = tmp_path / "module.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": "2.6.0"}, path)
    loaded = AlexNetModule.load_from_checkpoint(path, weights_only=True)
    assert loaded.hparams.compile and not compiled(loaded)
