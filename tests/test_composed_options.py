"""What each config option builds: the model, optimizer, schedule, loggers, callbacks and data
pipelines that train() gets from the composed config, checked without training (a few options
run end to end in tests/test_train.py)."""

from collections import Counter
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import get_class, instantiate
from lightning.pytorch.accelerators import CPUAccelerator, CUDAAccelerator
from lightning.pytorch.loggers import CSVLogger, MLFlowLogger, TensorBoardLogger, WandbLogger
from torch import nn
from torch.optim import lr_scheduler
from torchvision.transforms import v2

from alexnet.config import CONF_DIR
from alexnet.data.transforms import FancyPCA
from alexnet.models import AlexNet, MiniAlexNet
from alexnet.models.four_layer import FourLayerNet
from alexnet.run_setup import build_module, check_run_options
from tests.conftest import TINY, compose_train


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if p.stem != "default")


def compose(tmp_path: Path, *overrides: str, tiny: bool = True):
    cfg = compose_train(
        *(TINY if tiny else []),
        f"paths.log_dir={tmp_path}",
        *overrides,
        output_dir=tmp_path / "run",
    )
    check_run_options(cfg)
    return cfg


def build(tmp_path: Path, *overrides: str, tiny: bool = True):
    """The config, module and datamodule train() builds for `overrides` (on TINY's data)."""
    cfg = compose(tmp_path, *overrides, tiny=tiny)
    datamodule = instantiate(cfg.data)
    return cfg, build_module(cfg, datamodule.num_classes), datamodule


def optimizer_and_schedules(cfg, module):
    """What Lightning gets from configure_optimizers under the trainer `cfg` builds."""
    module.trainer = instantiate(cfg.trainer, logger=False, callbacks=[])
    built = module.configure_optimizers()
    if isinstance(built, torch.optim.Optimizer):
        return built, []
    (optimizer,), schedules = built
    return optimizer, schedules


def of_type(model: nn.Module, *types: type) -> list[nn.Module]:
    return [m for m in model.modules() if type(m) in types]


# Config values typed in (overrides, YAML) reach the modules unchanged: compared exactly below.
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


@pytest.mark.parametrize("name", options("activation"))
def test_activation_option_builds_its_module_in_every_slot(tmp_path, name):
    _, module, _ = build(tmp_path, f"activation={name}")
    built = of_type(module.model, *ACTIVATIONS.values())
    assert [type(m) for m in built] == [ACTIVATIONS[name]] * 4  # mini: act1..act4


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        (["activation=leaky_relu", "activation.params.negative_slope=0.2"], "negative_slope", 0.2),
        (["activation=elu", "activation.params.alpha=0.5"], "alpha", 0.5),
        (["activation=gelu", "activation.params.approximate=tanh"], "approximate", "tanh"),
    ],
)
def test_activation_params_reach_every_activation(tmp_path, overrides, key, value):
    _, module, _ = build(tmp_path, *overrides)
    built = of_type(module.model, *ACTIVATIONS.values())
    assert [getattr(m, key) for m in built] == [value] * 4


@pytest.mark.parametrize(
    ("override", "rates"),
    [("dropout=standard", [0.5, 0.5]), ("dropout=none", []), ("dropout.p=0.3", [0.3, 0.3])],
)
def test_dropout_option_sets_both_dropouts(tmp_path, override, rates):
    _, module, _ = build(tmp_path, override)
    assert [m.p for m in of_type(module.model, nn.Dropout)] == rates


@pytest.mark.parametrize(
    ("override", "lrn", "pools"),
    [
        ("model.lrn=false", 0, [(3, 2), (3, 2)]),
        ("model.lrn=true", 2, [(3, 2), (3, 2)]),  # after conv1 and conv2
        ("model.pooling=non_overlapping", 0, [(2, 2), (2, 2)]),
    ],
)
def test_lrn_and_pooling_knobs_reach_the_model(tmp_path, override, lrn, pools):
    _, module, _ = build(tmp_path, override)
    assert len(of_type(module.model, nn.LocalResponseNorm)) == lrn
    assert [(p.kernel_size, p.stride) for p in of_type(module.model, nn.MaxPool2d)] == pools


MODELS = {
    "alexnet": (AlexNet, 64),
    "paper2012": (AlexNet, 96),
    "mini": (MiniAlexNet, 32),
    "four_layer": (FourLayerNet, 32),
}  # the network and conv1's width


@pytest.mark.parametrize("name", options("model"))
def test_model_option_builds_its_network_with_the_datas_classes(tmp_path, name):
    _, module, _ = build(tmp_path, f"model={name}")
    network, conv1 = MODELS[name]
    assert type(module.model) is network and module.model.features[0].out_channels == conv1
    assert of_type(module.model, nn.Linear)[-1].out_features == 3  # TINY's data.num_classes


OPTIMIZERS = {  # the class, and one of its own arguments set by an override
    "adam": (torch.optim.Adam, "amsgrad", True),
    "adamw": (torch.optim.AdamW, "amsgrad", True),
    "sgd": (torch.optim.SGD, "momentum", 0.8),
}


@pytest.mark.parametrize("name", options("optimizer"))
def test_optimizer_option_builds_its_optimizer_with_its_arguments(tmp_path, name):
    cls, key, value = OPTIMIZERS[name]
    cfg, module, _ = build(
        tmp_path,
        f"optimizer={name}",
        "optimizer.lr=0.0123",
        "optimizer.weight_decay=0.0321",
        f"optimizer.{key}={value}".lower(),
        "schedule=constant",
    )
    optimizer, schedules = optimizer_and_schedules(cfg, module)
    assert type(optimizer) is cls and schedules == []
    (group,) = optimizer.param_groups
    assert (group["lr"], group["weight_decay"], group[key]) == (0.0123, 0.0321, value)
    assert len(group["params"]) == len(list(module.model.parameters()))


SCHEDULES = {  # overrides, the scheduler class and attributes it must have (constant: none)
    "constant": ([], None, {}),
    "step": (
        ["schedule.step_size=7", "schedule.gamma=0.5"],
        lr_scheduler.StepLR,
        {"step_size": 7, "gamma": 0.5},
    ),
    "multistep": (
        ["schedule.milestones=[2,5]"],
        lr_scheduler.MultiStepLR,
        {"milestones": Counter({2: 1, 5: 1})},
    ),
    "cosine": (["trainer.max_epochs=6"], lr_scheduler.CosineAnnealingLR, {"T_max": 6}),
    "exponential": (["schedule.gamma=0.5"], lr_scheduler.ExponentialLR, {"gamma": 0.5}),
    "plateau": (
        ["schedule.patience=7", "schedule.mode=min"],
        lr_scheduler.ReduceLROnPlateau,
        {"patience": 7, "mode": "min"},
    ),
}


@pytest.mark.parametrize("name", options("schedule"))
def test_schedule_option_builds_its_scheduler(tmp_path, name):
    overrides, cls, attributes = SCHEDULES[name]
    cfg, module, _ = build(tmp_path, f"schedule={name}", *overrides)
    _, schedules = optimizer_and_schedules(cfg, module)
    assert [type(s["scheduler"]) for s in schedules] == ([cls] if cls else [])
    for schedule in schedules:
        assert schedule["interval"] == "epoch"
        assert {key: getattr(schedule["scheduler"], key) for key in attributes} == attributes


def test_plateau_schedule_watches_its_monitor(tmp_path):
    cfg, module, _ = build(tmp_path, "schedule=plateau", "schedule.monitor=val/loss")
    (schedule,) = optimizer_and_schedules(cfg, module)[1]
    assert schedule["monitor"] == "val/loss"


def test_warmup_steps_put_a_linear_warmup_before_the_schedule(tmp_path):
    cfg, module, _ = build(
        tmp_path,
        "optimizer=sgd",
        "optimizer.lr=0.1",
        "schedule=cosine",
        "schedule.warmup_steps=5",
        "schedule.warmup_start_factor=0.2",
    )
    optimizer, schedules = optimizer_and_schedules(cfg, module)
    assert [(type(s["scheduler"]), s["interval"]) for s in schedules] == [
        (lr_scheduler.LinearLR, "step"),
        (lr_scheduler.CosineAnnealingLR, "epoch"),
    ]
    assert schedules[0]["scheduler"].total_iters == 5
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.2, rel=1e-9)  # step 0


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
    # MLflow's logger creates its database when built (~10 s): built in tests/test_trackers.py.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    mlflow, wandb = logger_nodes(compose(tmp_path, "logger=[mlflow,wandb]"))
    assert mlflow.tracking_uri == f"sqlite:///{tmp_path}/mlflow.db"
    wandb = instantiate(wandb)
    assert type(wandb) is WandbLogger and Path(wandb.save_dir) == tmp_path / "run"


DEFAULT_CALLBACKS = ["ModelCheckpoint"] * 3 + [
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
    checkpoints = {b.dirpath for b in built if type(b).__name__ == "ModelCheckpoint"}
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


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_label_smoothing_reaches_the_training_loss(tmp_path, smoothing):
    _, module, _ = build(tmp_path, f"label_smoothing={smoothing}", "dropout=none")
    torch.manual_seed(0)
    images, labels = torch.randn(6, 3, 64, 64), torch.tensor([0, 0, 0, 0, 1, 1])
    with torch.no_grad():
        module.model.classifier[-1].bias.copy_(torch.tensor([8.0, 0.0, -8.0]))  # confident
        logits = module(images)
        loss = module.training_step((images, labels), 0)
    expected = F.cross_entropy(logits, labels, label_smoothing=smoothing)
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    other = F.cross_entropy(logits, labels, label_smoothing=0.3 - smoothing)
    assert (loss - other).abs() > 0.5  # smoothing matters with confident logits


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


def test_channels_last_keeps_weights_in_nhwc(tmp_path):
    _, module, _ = build(tmp_path, "channels_last=true")
    assert module.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert module.memory_format is torch.channels_last


# The recipe each builds (tests/test_train.py runs experiment=paper). finetune loads ImageNet's
# weights, a download: only composed, in tests/test_train.py.
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
