"""compile=true compiles the steps' model when fitting starts, never when a module is only built
(to evaluate, inspect or interpret a checkpoint), and the picture callbacks (hooks, eval mode,
in-place flags, other batch sizes) never recompile it: they run on the plain model."""

import pytest
import torch
from torch._dynamo.utils import counters  # dynamo's compile statistics: no public accessor

from alexnet import AlexNetModule
from alexnet.run.api import train
from tests.conftest import TINY, compose_train

MINI = {"preset": "mini", "num_classes": 3}


def compiled(module: AlexNetModule) -> bool:
    return module.step_model is not module.model


def test_compile_waits_for_fit(tmp_path):
    module = AlexNetModule(model=MINI, compile=True)
    assert not compiled(module)
    for stage in ("validate", "test", "predict"):
        module.setup(stage)
        assert not compiled(module), stage
    module.setup("fit")
    assert compiled(module)
    assert list(module.state_dict()) == list(AlexNetModule(model=MINI).state_dict())
    assert module(torch.zeros(1, 3, 64, 64)).shape == (1, 3)  # forward: the plain model


def test_a_checkpoint_of_a_compiled_run_loads_uncompiled(tmp_path):
    module = AlexNetModule(model=MINI, compile=True)
    module.setup("fit")
    path = tmp_path / "module.ckpt"
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": "2.6.0",
        },
        path,
    )
    loaded = AlexNetModule.load_from_checkpoint(path, weights_only=True)
    assert loaded.hparams.compile and not compiled(loaded)


def graphs_compiled(tmp_path, callbacks: str) -> int:
    """Graphs dynamo compiled in a 2-epoch compiled run (aot_eager: the same graphs and guards as
    inductor, without code generation)."""
    torch.compiler.reset()
    counters.clear()
    train(
        compose_train(
            *TINY,
            "compile=true",
            "compile_backend=aot_eager",
            "trainer.max_epochs=2",
            f"callbacks={callbacks}",
            "test=false",
            *(
                ["callbacks.embedding_projector.every_n_epochs=1"]
                if callbacks == "interpret"
                else []
            ),
            output_dir=tmp_path / callbacks,
        )
    )
    return counters["stats"]["unique_graphs"]


@pytest.mark.slow
def test_picture_callbacks_do_not_recompile_the_training_graph(tmp_path):
    plain = graphs_compiled(tmp_path, "none")
    with_pictures = graphs_compiled(tmp_path, "interpret")
    assert 1 <= plain <= 4  # train and eval mode, perhaps a dynamic batch size
    assert with_pictures == plain
