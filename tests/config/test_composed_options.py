"""What the run's config options build: the loggers, callbacks, data pipelines, trainer and
experiment recipes that train() gets from the composed config, checked without training (the model's
options: tests/models/test_model_options.py; the optimizer's, schedules' and loss's:
tests/training/test_training_options.py; a few options run end to end in tests/run/test_train.py).
"""

from pathlib import Path

import pytest
import torch
from hydra.utils import get_class, instantiate
from lightning.pytorch.accelerators import CPUAccelerator, CUDAAccelerator
from lightning.pytorch.loggers import CSVLogger, MLFlowLogger, TensorBoardLogger, WandbLogger
from torch.optim import lr_scheduler
from torchvision.transforms import v2

from alexnet.data.transforms import FancyPCA
from alexnet.models import AlexNet, MiniAlexNet
from tests.support.option_builds import build, compose, optimizer_and_schedules, options

LOGGERS = {
    "csv": [CSVLogger],
    "mlflow": [MLFlowLogger],
    "none": [],
    "tensorboard": [TensorBoardLogger],
    "wandb": [WandbLogger],
}


def logger_nodes(cfg) -> list:
    return [c for c in (cfg.get("logger") or {}).values() if c]


@pytest.mark.parametrize("name", options("logger"))
def test_logger_option_names_its_logger(tmp_path, name):
    cfg = compose(tmp_path, f"logger={name}")
    assert [get_class(c._target_) for c in logger_nodes(cfg)] == LOGGERS[name]


def test_loggers_side_by_side_write_into_the_run_dir(tmp_path):
    built = [instantiate(c) for c in logger_nodes(compose(tmp_path, "logger=[tensorboard,csv]"))]
    assert [type(b) for b in built] == [TensorBoardLogger, CSVLogger]
    assert [Path(b.log_dir) for b in built] == [
        tmp_path / "run" / "tensorboard",
        tmp_path / "run" / "csv",
    ]


def test_trackers_write_beside_the_run(tmp_path, monkeypatch):
    # MLflow's logger creates its database when built (~10 s): built in tests/run/test_trackers.py.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    mlflow, wandb = logger_nodes(compose(tmp_path, "logger=[mlflow,wandb]"))
    assert mlflow.tracking_uri == f"sqlite:///{tmp_path}/mlflow.db"
    wandb = instantiate(wandb)
    assert type(wandb) is WandbLogger and Path(wandb.save_dir) == tmp_path / "run"


DEFAULT_CALLBACKS = ["BestCheckpoint", "ModelCheckpoint", "StepCheckpoint"] + [
    "LearningRateMonitor",
    "TQDMProgressBar",
    "FilterImages",
    "FeatureMapImages",
    "ActivationStatistics",
    "ConfusionMatrixImage",
    "HParamsPanel",
]
CALLBACKS = {
    "default": DEFAULT_CALLBACKS,
    "none": [],
    "interpret": DEFAULT_CALLBACKS
    + ["GradCamImages", "NearestNeighbourImages", "EmbeddingProjector"],
}


@pytest.mark.parametrize("name", options("callbacks"))
def test_callbacks_option_builds_its_callbacks(tmp_path, name):
    cfg = compose(tmp_path, f"callbacks={name}")
    built = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    assert sorted(type(b).__name__ for b in built) == sorted(CALLBACKS[name])
    checkpoints = {str(b.dirpath) for b in built if type(b).__name__.endswith("Checkpoint")}
    assert checkpoints <= {str(tmp_path / "run" / "checkpoints")}


RANDOM_STEPS = {v2.RandomCrop, v2.RandomResizedCrop, v2.RandomHorizontalFlip, FancyPCA}


@pytest.mark.parametrize(
    ("augment", "steps"),
    [
        ("paper", {v2.RandomCrop, v2.RandomHorizontalFlip, FancyPCA}),
        ("torchvision", {v2.RandomResizedCrop, v2.RandomHorizontalFlip}),
        ("none", set()),
    ],
)
def test_augment_option_builds_its_training_pipeline(tmp_path, augment, steps):
    _, _, datamodule = build(tmp_path, f"data.augment={augment}")
    datamodule.setup("fit")
    transform = datamodule.datasets["train"].transform
    assert {type(t) for t in getattr(transform, "transforms", [])} & RANDOM_STEPS == steps


@pytest.mark.parametrize(
    ("crop", "shape"), [("center", (4, 3, 64, 64)), ("ten_crop", (4, 10, 3, 64, 64))]
)
def test_eval_crop_option_shapes_the_validation_batches(tmp_path, crop, shape):
    _, _, datamodule = build(tmp_path, f"data.eval_crop={crop}")
    datamodule.setup("fit")
    images, _ = next(iter(datamodule.val_dataloader()))
    assert images.shape == shape


@pytest.mark.parametrize(
    ("option", "accelerator"),
    [
        ("auto", CUDAAccelerator if torch.cuda.is_available() else CPUAccelerator),
        ("cpu", CPUAccelerator),
    ],
)
def test_trainer_option_picks_the_accelerator(tmp_path, option, accelerator):
    trainer = instantiate(
        compose(tmp_path, f"trainer={option}", tiny=False).trainer, logger=False, callbacks=[]
    )
    assert type(trainer.accelerator) is accelerator


# The recipe each builds (tests/run/test_train.py runs experiment=paper). finetune loads ImageNet's
# weights, a download: only composed, in tests/run/test_train.py.
EXPERIMENTS = {  # network, conv1 width, optimizer, scheduler, data source and augmentation
    "demo": (
        MiniAlexNet,
        32,
        torch.optim.AdamW,
        lr_scheduler.CosineAnnealingLR,
        "synthetic",
        "none",
    ),
    "paper": (AlexNet, 96, torch.optim.SGD, lr_scheduler.ReduceLROnPlateau, "imagefolder", "paper"),
    "torchvision_recipe": (
        AlexNet,
        64,
        torch.optim.SGD,
        lr_scheduler.StepLR,
        "imagefolder",
        "torchvision",
    ),
}


@pytest.mark.parametrize("experiment", [e for e in options("experiment") if e != "finetune"])
def test_experiment_builds_its_recipe(tmp_path, image_folder, experiment):
    network, conv1, optimizer_cls, scheduler, source, augment = EXPERIMENTS[experiment]
    root = [f"data.root={image_folder}"] if source == "imagefolder" else []
    cfg, module, datamodule = build(
        tmp_path, f"experiment={experiment}", "trainer=cpu", *root, tiny=False
    )
    optimizer, schedules = optimizer_and_schedules(cfg, module)
    assert type(module.model) is network and module.model.features[0].out_channels == conv1
    assert type(optimizer) is optimizer_cls
    assert [type(s["scheduler"]) for s in schedules] == [scheduler]
    assert (datamodule.source, datamodule.augment) == (source, augment)
