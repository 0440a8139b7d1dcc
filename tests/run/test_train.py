"""The Hydra configs composed as users type them, and a few real runs end to end (what each
option builds is checked without training in tests/models/test_model_options.py,
tests/training/test_training_options.py and tests/config/test_composed_options.py)."""

import json
from pathlib import Path

import pytest
import torch

from alexnet.config.compose import compose_config
from alexnet.run.api import train
from tests.conftest import TINY, compose_train
from tests.support.option_builds import options


def fast_dev_run(tmp_path: Path, *overrides: str) -> dict:
    cfg = compose_train(*TINY, "debug=fast_dev_run", *overrides, output_dir=tmp_path / "run")
    return train(cfg)


def completed_one_step(record: dict) -> bool:
    return (
        record["status"] == "completed"
        and record["global_step"] == 1
        and {"train/loss", "val/acc1"} <= set(record["metrics"])
    )


def test_default_config_is_alexnet_on_synthetic_data():
    cfg = compose_train()  # config values are compared as typed: exact
    assert cfg.model.preset == "alexnet" and cfg.data.source == "synthetic"
    assert cfg.activation.name == "relu" and cfg.dropout.p == 0.5
    assert cfg.trainer.accelerator == "auto" and cfg.seed == 0


def test_groups_have_the_options_the_docs_promise():
    assert options("model") == ["alexnet", "four_layer", "mini", "paper2012"]
    assert len(options("activation")) == 8
    assert options("dropout") == ["none", "standard"]
    assert options("optimizer") == ["adam", "adamw", "sgd"]
    assert options("schedule") == [
        "constant",
        "cosine",
        "exponential",
        "multistep",
        "plateau",
        "step",
    ]
    assert options("data") == [
        "cifar10",
        "cifar100",
        "fashion_mnist",
        "imagefolder",
        "imagenette",
        "mnist",
        "stl10",
        "synthetic",
        "synthetic_hard",
        "synthetic_hard_v1",
    ]
    assert options("trainer") == ["auto", "cpu", "ddp", "ddp_gpu", "gpu"]
    assert options("logger") == ["csv", "mlflow", "none", "tensorboard", "wandb"]
    assert options("experiment") == ["demo", "finetune", "paper", "torchvision_recipe"]
    assert options("debug") == ["fast_dev_run", "limit", "overfit"]


# One fast_dev_run per network class and data source; paper2012 and ImageFolder data run in the
# paper experiment's, mini in most other runs here.
@pytest.mark.parametrize("model", ["alexnet", "four_layer"])
def test_every_network_runs_a_fast_dev_run(tmp_path, model):
    assert completed_one_step(fast_dev_run(tmp_path, f"model={model}", "data.batch_size=2"))


def test_paper_experiment_runs_a_fast_dev_run_on_an_image_folder(tmp_path, image_folder):
    overrides = [
        "experiment=paper",
        "data.batch_size=2",
        "data.num_workers=0",
        "trainer=cpu",
        f"data.root={image_folder}",
        "data.image_size=67",
        "data.resize_size=72",
    ]
    record = train(compose_train(*overrides, "debug=fast_dev_run", output_dir=tmp_path / "run"))
    assert completed_one_step(record)
    assert record["metrics"]["val/acc5"] == 1.0  # exact: 3 classes, all in the top 5


def test_a_run_without_loggers_applies_seed_zero(tmp_path):
    # Lightning refuses a LearningRateMonitor without a logger: train() must drop it. seed=0
    # must seed like any other (tests/run/test_reliability.py compares whole runs by seed).
    torch.manual_seed(12345)
    record = fast_dev_run(tmp_path, "logger=none", "seed=0")
    assert completed_one_step(record) and torch.initial_seed() == 0


def test_paper_experiment_is_the_papers_recipe():
    cfg = compose_train("experiment=paper", "data.root=/data/imagenet")  # as typed: exact
    assert cfg.model.preset == "paper2012" and cfg.optimizer.name == "sgd"
    assert (cfg.optimizer.lr, cfg.optimizer.momentum, cfg.optimizer.weight_decay) == (
        0.01,
        0.9,
        5e-4,
    )
    assert cfg.schedule.name == "plateau" and cfg.schedule.factor == 0.1
    assert cfg.data.batch_size == 128 and cfg.trainer.max_epochs == 90
    assert cfg.data.augment == "paper" and cfg.data.source == "imagefolder"


def test_finetune_experiment_starts_from_imagenet_weights():
    # Not built: the weights are a download (tests/models/test_weights.py loads a cached copy).
    cfg = compose_train("experiment=finetune")
    assert cfg.model.preset == "alexnet" and cfg.model.weights == "imagenet"
    assert cfg.optimizer.name == "sgd" and cfg.schedule.name == "cosine"
    assert cfg.data.augment == "torchvision" and cfg.data.image_size == 224


def test_gpu_trainer_composes():
    cfg = compose_train("trainer=gpu")
    assert cfg.trainer.accelerator == "gpu" and cfg.trainer.precision == "bf16-mixed"


@pytest.mark.parametrize("debug", ["limit", "overfit"])
def test_debug_configs_run(tmp_path, debug):
    overrides = [*TINY, f"debug={debug}", "trainer.max_epochs=2"]
    record = train(compose_train(*overrides, output_dir=tmp_path / "run"))
    assert record["epochs"] == 2


def test_run_dir_holds_config_checkpoints_events_and_metrics(tmp_path):
    out = tmp_path / "run"
    record = train(compose_train(*TINY, "trainer.max_epochs=2", output_dir=out))
    written = json.loads((out / "metrics.json").read_text())
    assert written["status"] == "completed" and written["epochs"] == 2
    for key in (
        "train/loss",
        "train/acc1",
        "train/acc5",
        "val/loss",
        "val/acc1",
        "val/acc5",
        "test/loss",
        "test/acc1",
        "test/acc5",
    ):
        assert key in written["metrics"], key
    assert (out / "config.yaml").read_text().count("preset: mini") == 1
    assert (out / "checkpoints" / "last.ckpt").exists()
    assert Path(record["best_checkpoint"]).exists()
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))


def test_last_checkpoint_holds_the_last_epoch_when_it_is_not_the_best(tmp_path):
    out = tmp_path / "run"  # "best" by the lowest epoch: epoch 0 stays the best
    record = train(
        compose_train(
            *TINY,
            "trainer.max_epochs=2",
            "checkpoint_every_n_steps=0",
            "callbacks.model_checkpoint.monitor=epoch",
            "callbacks.model_checkpoint.mode=min",
            output_dir=out,
        )
    )
    assert Path(record["best_checkpoint"]).name == "epoch_000.ckpt"
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == record["global_step"] and last["epoch"] == 1


def test_resuming_a_finished_fit_reports_the_same_metrics(tmp_path):
    # A SLURM job requeued during its test phase resumes after its last epoch: nothing left to
    # fit, and its record must still hold the training and validation metrics.
    first = train(compose_train(*TINY, "trainer.max_epochs=2", output_dir=tmp_path / "a"))
    last = tmp_path / "a" / "checkpoints" / "last.ckpt"
    again = train(
        compose_train(*TINY, "trainer.max_epochs=2", f"ckpt_path={last}", output_dir=tmp_path / "b")
    )
    assert again["global_step"] == first["global_step"]
    # Exact: train and val metrics are read back from the checkpoint, and the test metrics are
    # recomputed from the same weights in this process, at the same thread count.
    assert again["metrics"] == first["metrics"] and "val/acc1" in again["metrics"]


def test_resume_continues_the_epoch_count(tmp_path):
    first = train(compose_train(*TINY, "trainer.max_epochs=1", output_dir=tmp_path / "a"))
    last = tmp_path / "a" / "checkpoints" / "last.ckpt"
    resumed = train(
        compose_train(*TINY, "trainer.max_epochs=3", f"ckpt_path={last}", output_dir=tmp_path / "b")
    )
    assert first["epochs"] == 1 and resumed["epochs"] == 3
    assert resumed["global_step"] == 3 * first["global_step"]


def test_slurm_launcher_composes():
    cfg = compose_config(
        [
            "hydra/launcher=slurm",
            "trainer=ddp",
            "trainer.accelerator=gpu",
            "trainer.devices=4",
            "trainer.num_nodes=2",
        ],
        with_hydra=True,
    )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.tasks_per_node, launcher.gpus_per_node, launcher.nodes) == (4, 4, 2)
    assert cfg.trainer.strategy._target_ == "alexnet.launch.distributed.HydraDDPStrategy"


def test_optuna_search_composes():
    cfg = compose_config(["hparams_search=optuna"], with_hydra=True)
    assert cfg.hydra.sweeper._target_.endswith("OptunaSweeper")
    assert cfg.hydra.sweeper.direction == "maximize" and cfg.optimized_metric == "val/acc1"


@pytest.mark.slow
@pytest.mark.parametrize(
    "speed",
    [
        ["trainer.precision=bf16-mixed"],
        ["channels_last=true"],
        ["trainer.precision=bf16-mixed", "channels_last=true"],
    ],
)
def test_speed_options_run_a_fast_dev_run(tmp_path, speed):
    record = train(
        compose_train(*TINY, "debug=fast_dev_run", "logger=none", *speed, output_dir=tmp_path)
    )
    assert record["status"] == "completed" and record["global_step"] == 1


def test_synthetic_images_rendered_on_the_device_are_the_loaders_images():
    from alexnet import AlexNetDataModule

    common = {
        "num_classes": 3,
        "image_size": 64,
        "train_per_class": 2,
        "batch_size": 4,
        "num_workers": 0,
    }
    loader = AlexNetDataModule(**common)
    device = AlexNetDataModule(**common, render_on="device")
    for dm in (loader, device):
        dm.setup("fit")
    reference = next(iter(loader.val_dataloader()))
    ids = next(iter(device.val_dataloader()))
    assert ids[0].shape == (4, 2)  # the loader moves (split, index) pairs only
    later = device.on_before_batch_transfer(ids, 0)
    assert not isinstance(later[0], torch.Tensor)  # read on the host: nothing to transfer
    images, labels = device.on_after_batch_transfer(later, 0)
    # The batch is drawn at once (alexnet.data.synthetic_batch), each image as the loader draws
    # it.
    torch.testing.assert_close(images, reference[0], atol=1e-5, rtol=0)  # see test_synthetic
    assert torch.equal(labels, reference[1])


def test_rendering_on_the_device_runs_a_fast_dev_run_and_rejects_augmentation(tmp_path):
    record = train(
        compose_train(*TINY, "debug=fast_dev_run", "data.render_on=device", output_dir=tmp_path)
    )
    assert record["status"] == "completed"
    with pytest.raises(
        ValueError,
        match="data.render_on='device' is not valid; rendering on "
        "the device needs data=synthetic, data.augment=none",
    ):
        train(
            compose_train(
                *TINY, "data.render_on=device", "data.augment=paper", output_dir=tmp_path / "b"
            )
        )
