import lightning as L
import torch
from torch import nn

from alexnet.data import AlexNetDataModule
from alexnet.training.module import AlexNetModule

MINI = {"preset": "mini", "num_classes": 3, "widths": [8, 8, 8], "hidden": 16}


def tiny_data(**kwargs):
    args = {
        "num_classes": 3,
        "image_size": 64,
        "train_per_class": 4,
        "val_per_class": 2,
        "test_per_class": 2,
        "batch_size": 6,
        "num_workers": 0,
    }
    return AlexNetDataModule(**{**args, **kwargs})


def test_checkpoint_rebuilds_the_model_without_config(tmp_path):
    module = AlexNetModule(
        model={**MINI, "activation": "tanh", "lrn": True, "dropout": 0.0},
        optimizer={"name": "adamw", "lr": 1e-3},
        schedule={"name": "cosine", "warmup_steps": 1},
        label_smoothing=0.1,
    )
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        default_root_dir=tmp_path,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=tiny_data())
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = AlexNetModule.load_from_checkpoint(path, map_location="cpu").eval()
    # Exact: the values as typed, saved and read back.
    assert restored.hparams.model["activation"] == "tanh" and restored.label_smoothing == 0.1
    x = torch.randn(2, 3, 64, 64)
    # Exact: the same weights and computation, in this process at the same thread count.
    with torch.no_grad():
        assert torch.equal(restored(x), module.eval()(x))


class PixelLogits(nn.Module):
    """A stand-in network: the logits of an image are its first three pixel values."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :3]


def test_ten_crop_evaluation_averages_the_softmax_not_the_logits():
    module = AlexNetModule(model=MINI).eval()
    module.model = PixelLogits()
    # Per image, one crop is sure of class c and nine lean to the label, c + 1: the mean logits
    # pick c (2.0 against 0.9), the mean probabilities pick the label (0.52 against 0.29).
    logits = torch.zeros(2, 10, 3)
    logits[0, 0, 0], logits[0, 1:, 1] = 20.0, 1.0
    logits[1, 0, 1], logits[1, 1:, 2] = 20.0, 1.0
    labels = torch.tensor([1, 2])
    crops = torch.zeros(2, 10, 3, 2, 2)
    crops.view(2, 10, -1)[..., :3] = logits
    scores = module._evaluate("test", (crops, labels))
    expected = logits.softmax(-1).mean(1)
    assert logits.mean(1).argmax(1).tolist() == [0, 1] and expected.argmax(1).tolist() == [1, 2]
    torch.testing.assert_close(scores, expected, rtol=1e-5, atol=1e-6)
    assert module.test_acc1.compute().item() == 1.0  # exact: 2 right of 2
    expected_loss = -expected[torch.arange(2), labels].log().mean()
    torch.testing.assert_close(module.test_loss.compute(), expected_loss, rtol=1e-5, atol=1e-6)


def test_top5_is_capped_by_the_class_count():
    module = AlexNetModule(model=MINI)
    assert module.val_acc5.top_k == 3
    assert AlexNetModule(model={**MINI, "num_classes": 10}).val_acc5.top_k == 5


def test_training_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    module = AlexNetModule(model={**MINI, "dropout": 0.0}, optimizer={"name": "adam", "lr": 3e-3})
    data = tiny_data()

    def trainer(epochs):
        return L.Trainer(
            max_epochs=epochs,
            accelerator="cpu",
            logger=False,
            overfit_batches=1,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
        )

    first = trainer(1)
    first.fit(module, datamodule=data)
    initial = float(first.callback_metrics["train/loss_epoch"])
    last = trainer(80)
    last.fit(module, datamodule=data)
    assert float(last.callback_metrics["train/loss_epoch"]) < 0.2 * initial


def test_model_is_the_preset_with_the_classes_asked_for():
    module = AlexNetModule(model={"preset": "paper2012", "num_classes": 7})
    # The 2012 paper's network, written out: (out channels, kernel, stride, padding, towers).
    convs = [
        (m.out_channels, m.kernel_size[0], m.stride[0], m.padding[0], m.groups)
        for m in module.model.modules()
        if isinstance(m, nn.Conv2d)
    ]
    assert convs == [
        (96, 11, 4, 0, 1),
        (256, 5, 1, 2, 2),
        (384, 3, 1, 1, 1),
        (384, 3, 1, 1, 2),
        (256, 3, 1, 1, 2),
    ]
    linears = [
        (m.in_features, m.out_features) for m in module.model.modules() if isinstance(m, nn.Linear)
    ]
    assert linears == [(256 * 6 * 6, 4096), (4096, 4096), (4096, 7)]
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in module.model.modules()) == 2
