"""What the training's config options build: the optimizer with its arguments, the schedules
(plateau's monitor, a warm-up before them) and label smoothing in the loss, checked without
training."""

from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler

from tests.support.option_builds import build, optimizer_and_schedules, options

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
