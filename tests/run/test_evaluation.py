"""Evaluation computed by hand: confusion counts from known scores, ten-crop through
trainer.test, and the overfit debug config driving the loss down."""

import json

import lightning as L
import pytest
import torch

from alexnet import AlexNetDataModule, AlexNetModule
from alexnet.callbacks import ConfusionMatrixImage
from alexnet.run.api import train
from alexnet.run.divergence import DivergenceError
from tests.conftest import TINY, compose_train


def test_confusion_counts_from_known_scores():
    callback = ConfusionMatrixImage()
    callback.on_validation_epoch_start(None, None)
    scores = torch.tensor(
        [[0.9, 0.1, 0.0], [0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.0, 0.1, 0.9], [0.2, 0.5, 0.3]]
    )
    labels = torch.tensor([0, 1, 1, 2, 2])
    callback.on_validation_batch_end(None, None, {"scores": scores[:3]}, (None, labels[:3]), 0)
    callback.on_validation_batch_end(None, None, {"scores": scores[3:]}, (None, labels[3:]), 1)
    # rows: true class, columns: predicted class
    assert callback._counts.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]


def test_ten_crop_through_trainer_test_averages_the_crops_softmax():
    torch.manual_seed(0)
    module = AlexNetModule(
        model={"preset": "mini", "num_classes": 3, "widths": [8, 8, 8], "hidden": 16}
    ).eval()
    datamodule = AlexNetDataModule(
        num_classes=3,
        image_size=48,
        eval_crop="ten_crop",
        train_per_class=1,
        val_per_class=1,
        test_per_class=3,
        batch_size=4,
        num_workers=0,
    )
    trainer = L.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    (metrics,) = trainer.test(module, datamodule=datamodule, verbose=False)
    probs, labels = [], []
    with torch.no_grad():
        for images, batch_labels in datamodule.test_dataloader():
            assert images.shape[1:] == (10, 3, 48, 48)
            crops = module.model(images.flatten(0, 1)).softmax(-1)
            probs.append(crops.view(len(images), 10, -1).mean(1))
            labels.append(batch_labels)
    probs, labels = torch.cat(probs), torch.cat(labels)
    expected_loss = torch.nn.functional.nll_loss(probs.log(), labels).item()
    # the same batches, but the loss summed another way (a running mean): float32 rounding
    assert metrics["test/loss"] == pytest.approx(expected_loss, rel=1e-5)
    correct = (probs.argmax(1) == labels).sum().item()
    # images, not classes; a float32 count ratio against Python's double of the same ratio
    assert metrics["test/acc1"] == pytest.approx(correct / len(labels), abs=1e-6)


@pytest.mark.slow
def test_debug_overfit_drives_the_training_loss_down(tmp_path):
    record = train(
        compose_train(
            *TINY,
            "debug=overfit",
            "callbacks=none",
            "logger=none",
            "test=false",
            output_dir=tmp_path,
        )
    )
    first, last = record["history"][0]["train/loss"], record["history"][-1]["train/loss"]
    assert first > 0.9 and last < 0.05  # two batches memorized: from chance (ln 3) to ~0


@pytest.mark.slow
def test_deferred_divergence_check_cancels_the_bad_update_and_stops_at_a_logging_step(tmp_path):
    diverging = [
        *TINY,
        "data.train_per_class=16",
        "optimizer=sgd",
        "optimizer.lr=1000",
        "activation=relu",
        "dropout=none",
        "logger=none",
        "callbacks=none",
    ]
    with pytest.raises(DivergenceError) as at_once:
        train(compose_train(*diverging, "divergence_check=step", output_dir=tmp_path / "a"))
    # The first step whose loss is not finite; the run below must reach the same step, which
    # needs the same floats: both runs are in this process (same threads, same kernels), with
    # the same seed and data, and the checks differ only after a loss is already non-finite.
    bad = at_once.value.step
    every = bad + 3  # a logging step after it, and a step checkpoint in between
    cfg = compose_train(
        *diverging,
        "divergence_check=deferred",
        f"trainer.log_every_n_steps={every}",
        f"checkpoint_every_n_steps={bad + 1}",
        "callbacks=default",
        output_dir=tmp_path / "b",
    )
    with pytest.raises(DivergenceError, match=rf"the loss is -?(nan|inf) at step {bad} \(epoch"):
        train(cfg)
    record = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert record["global_step"] == every  # noticed at the logging step, not at once
    assert record["last_good_checkpoint"].endswith(f"step_{bad + 1:07d}.ckpt")  # after the bad step
    last = torch.load(record["last_good_checkpoint"], weights_only=True)["state_dict"]
    assert all(torch.isfinite(w).all() for w in last.values() if w.is_floating_point())


@pytest.mark.slow
def test_deferred_check_with_gradient_accumulation_keeps_the_weights_finite(tmp_path):
    # A bad micro-batch before the last one of an optimizer step must not slip through.
    cfg = compose_train(
        *TINY,
        "data.train_per_class=16",
        "optimizer=sgd",
        "optimizer.lr=1000",
        "activation=relu",
        "dropout=none",
        "logger=none",
        "divergence_check=deferred",
        "trainer.accumulate_grad_batches=2",
        "trainer.log_every_n_steps=100",
        "checkpoint_every_n_steps=5",
        output_dir=tmp_path,
    )
    with pytest.raises(DivergenceError, match=r"at step [0-4] \(epoch 0\)"):
        train(cfg)
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["global_step"] == 6  # 12 batches of 4, 2 per step: caught at the epoch's end
    after = torch.load(tmp_path / "checkpoints" / "step_0000005.ckpt", weights_only=True)
    assert all(
        torch.isfinite(w).all() for w in after["state_dict"].values() if w.is_floating_point()
    )  # saved after the bad step: no NaN reached the weights


def test_accuracy_is_correct_images_over_images_on_imbalanced_data():
    module = AlexNetModule(
        model={"preset": "mini", "num_classes": 3, "widths": [8, 8, 8], "hidden": 16}
    )
    # 4 images of class 0 (all right), 1 of class 1 (wrong): 4/5 images, but 1/2 per class.
    scores = torch.tensor([[9.0, 0, 0]] * 4 + [[9.0, 0, 0]])
    labels = torch.tensor([0, 0, 0, 0, 1])
    module.val_acc1(scores, labels)
    assert module.val_acc1.compute().item() == pytest.approx(0.8, abs=1e-6)  # 4/5 in float32


def _train_three_classes(run_dir):
    """A one-epoch TINY run (3 classes) in `run_dir`, in this process."""
    from alexnet.run.api import train

    train(
        compose_train(
            *TINY,
            "trainer.max_epochs=1",
            "logger=none",
            "callbacks=none",
            "test=false",
            output_dir=run_dir,
        )
    )


def test_evaluating_on_data_with_other_classes_is_one_line(tmp_path):
    from alexnet.config.compose import compose_config
    from alexnet.errors import InvalidValue
    from alexnet.run.api import evaluate

    _train_three_classes(tmp_path / "run")
    cfg = compose_config(
        [f"ckpt_path={tmp_path / 'run'}", "data.num_classes=4", "trainer=cpu"],
        config_name="eval",
        output_dir=tmp_path / "eval",
    )
    with pytest.raises(InvalidValue, match="it has 4 classes but the checkpoint's head has 3"):
        evaluate(cfg)
    assert not (tmp_path / "eval").exists()


def test_evaluating_on_a_folder_with_other_classes_names_the_folder(tmp_path):
    from alexnet.config.compose import compose_config
    from alexnet.errors import InvalidValue
    from alexnet.run.api import evaluate
    from tests.conftest import write_image

    _train_three_classes(tmp_path / "run")
    for name in ("cat", "dog"):  # 2 classes where the checkpoint's head has 3
        for index in range(2):
            write_image(tmp_path / "photos" / name / f"{index}.jpg", "RGB", (40, 40), index)
    cfg = compose_config(
        [
            f"ckpt_path={tmp_path / 'run'}",
            "data.source=imagefolder",
            f"data.root={tmp_path / 'photos'}",
            "trainer=cpu",
        ],
        config_name="eval",
        output_dir=tmp_path / "eval",
    )
    with pytest.raises(InvalidValue) as caught:  # not data.num_classes, which nobody set
        evaluate(cfg)
    assert caught.value.key == "data.root" and "it has 2 classes" in str(caught.value)
