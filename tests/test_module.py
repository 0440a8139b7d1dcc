import lightning as L
import torch

from alexnet import create_model
from alexnet.data import AlexNetDataModule
from alexnet.module import AlexNetModule

MINI = {"preset": "mini", "num_classes": 3, "widths": [8, 8, 8], "hidden": 16}


def tiny_data(**kwargs):
    args = {"num_classes": 3, "image_size": 64, "train_per_class": 4, "val_per_class": 2,
            "test_per_class": 2, "batch_size": 6, "num_workers": 0}
    return AlexNetDataModule(**{**args, **kwargs})


def test_checkpoint_rebuilds_the_model_without_config(tmp_path):
    module = AlexNetModule(model={**MINI, "activation": "tanh", "lrn": True, "dropout": 0.0},
                           optimizer={"name": "adamw", "lr": 1e-3},
                           schedule={"name": "cosine", "warmup_steps": 1}, label_smoothing=0.1)
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                        default_root_dir=tmp_path, enable_model_summary=False)
    trainer.fit(module, datamodule=tiny_data())
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = AlexNetModule.load_from_checkpoint(path, map_location="cpu").eval()
    assert restored.hparams.model["activation"] == "tanh" and restored.label_smoothing == 0.1
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(restored(x), module.eval()(x))


def test_ten_crop_evaluation_averages_the_softmax_over_crops():
    module = AlexNetModule(model=MINI).eval()
    crops = torch.randn(2, 10, 3, 64, 64)
    labels = torch.tensor([0, 2])
    module._evaluate("test", (crops, labels))
    with torch.no_grad():
        probs = module(crops.flatten(0, 1)).softmax(-1).view(2, 10, -1).mean(1)
    expected = (probs.argmax(-1) == labels).float().mean()
    assert module.test_acc1.compute() == expected


def test_top5_is_capped_by_the_class_count():
    module = AlexNetModule(model=MINI)
    assert module.val_acc5.top_k == 3
    assert AlexNetModule(model={**MINI, "num_classes": 10}).val_acc5.top_k == 5


def test_training_reduces_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    module = AlexNetModule(model={**MINI, "dropout": 0.0}, optimizer={"name": "adam", "lr": 3e-3})
    data = tiny_data()
    def trainer(epochs):
        return L.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, overfit_batches=1,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0)

    first = trainer(1)
    first.fit(module, datamodule=data)
    initial = float(first.callback_metrics["train/loss_epoch"])
    last = trainer(80)
    last.fit(module, datamodule=data)
    assert float(last.callback_metrics["train/loss_epoch"]) < 0.2 * initial


def test_model_is_the_preset():
    module = AlexNetModule(model={"preset": "paper2012", "num_classes": 7})
    reference = create_model("paper2012", num_classes=7)
    assert [type(m) for m in module.model.modules()] == [type(m) for m in reference.modules()]
