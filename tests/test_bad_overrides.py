"""A table of bad overrides, every group and every kind of mistake (an unknown option, a wrong
type, a value out of range, a key that does not exist, bad syntax): each stops `train.py` with
one line naming the key, the value and what is allowed, a non-zero exit, and no run dir.

The table runs the real command-line entry point in this process (a process each would cost
~10 s of imports); tests/test_sweeps.py runs a few as real processes.
"""

import sys

import pytest

from alexnet.cli import train_command
from alexnet.run_setup import compile_backends

CHOICES_ACTIVATION = "elu, gelu, leaky_relu, relu, relu6, sigmoid, silu, tanh"
TABLE = [
    # model
    (
        ["model=vgg"],
        "model='vgg' is not valid; choose one of: alexnet, four_layer, mini, paper2012",
    ),
    (["model.hidden=abc"], "model.hidden='abc' is not valid; it must be an integer"),
    (["model.hidden=0"], "model.hidden=0 is not valid; it must be an integer >= 1"),
    (["model.lrn=maybe"], "model.lrn='maybe' is not valid; it must be true or false"),
    (
        ["model.pooling=avg"],
        "model.pooling='avg' is not valid; choose one of: overlapping, non_overlapping",
    ),
    (
        ["model.widths=[1,2]"],
        "model.widths=[1, 2] is not valid; it must be 3 positive integers "
        "(the channels of conv1..conv3)",
    ),
    (
        ["model.widths=[32,a,128]"],
        "model.widths='[32,a,128]' is not valid; each of its items must be an integer",
    ),
    (
        ["model.lrn_scale=0"],
        "model.lrn_scale=0.0 is not valid; it must be a positive number (1: "
        "the constants as given; 57.6: the paper's input scale)",
    ),
    (
        ["matmul_precision=tf32"],
        "matmul_precision='tf32' is not valid; choose one of: highest, high, medium",
    ),
    (["sigterm_grace_s=0"], "sigterm_grace_s=0 is not valid; it must be a number > 0"),
    (["model.init=xavier"], "model.init='xavier' is not valid; choose one of: default, kaiming"),
    (
        ["model.groups=2"],
        "model.groups=2 is not valid; the mini model has no such knob; its "
        "knobs: lrn, lrn_scale, pooling, widths, hidden, init, "
        "in_channels",
    ),
    (
        ["model=alexnet", "model.dropout_placement=fc8"],
        "model.dropout_placement='fc8' is not valid; choose one of: torchvision, paper",
    ),
    (
        ["model.depth=9"],
        "model.depth='9' is not valid; there is no such key; the keys of model: "
        "preset, lrn, lrn_scale, pooling, widths, hidden, groups, init, "
        "conv1_padding, "
        "dropout_placement, in_channels, weights, freeze (a new key needs a "
        "leading +: +model.depth=...)",
    ),
    (
        ["model.freeze=conv"],
        "model.freeze='conv' is not valid; choose one of: none, features, all_but_head",
    ),
    (
        ["model.weights=/no/such.pt"],
        "model.weights='/no/such.pt' is not valid; no such file; "
        "give imagenet, or the path of a state_dict file or a .ckpt "
        "checkpoint",
    ),
    (
        ["model.weights=imagenet"],
        "model.weights='imagenet' is not valid; only model=alexnet "
        "(torchvision's layout) can take the ImageNet weights, not "
        "model=mini",
    ),
    # activation
    (["activation=swish"], f"activation='swish' is not valid; choose one of: {CHOICES_ACTIVATION}"),
    (
        ["activation.name=swish"],
        "activation='swish' is not valid; choose one of: relu, tanh, "
        "sigmoid, relu6, leaky_relu, elu, gelu, silu",
    ),
    (
        ["activation=elu", "activation.params.alpha=abc"],
        "activation.params={'alpha': 'abc'} is not valid; elu's parameter alpha must be a number",
    ),
    # dropout
    (["dropout.p=2"], "dropout.p=2.0 is not valid; it must be a probability in [0, 1)"),
    (["dropout.p=abc"], "dropout.p='abc' is not valid; it must be a number"),
    (["dropout=half"], "dropout='half' is not valid; choose one of: none, standard"),
    # optimizer
    (["optimizer=rmsprop"], "optimizer='rmsprop' is not valid; choose one of: adam, adamw, sgd"),
    (["optimizer.lr=0"], "optimizer.lr=0.0 is not valid; it must be a number > 0"),
    (["optimizer.lr=abc"], "optimizer.lr='abc' is not valid; it must be a number"),
    (
        ["optimizer=adam", "optimizer.momentum=0.9"],
        "optimizer.momentum=0.9 is not valid; adam "
        "takes no momentum; its arguments: lr, betas, eps, weight_decay, amsgrad, foreach, "
        "maximize, capturable, differentiable, fused, decoupled_weight_decay",
    ),
    (
        ["optimizer=sgd", "optimizer.momentum=1.5"],
        "optimizer.momentum=1.5 is not valid; it must be a number in [0, 1)",
    ),
    # schedule
    (
        ["schedule=linear"],
        "schedule='linear' is not valid; choose one of: constant, cosine, "
        "exponential, multistep, plateau, step",
    ),
    (
        ["schedule=step", "schedule.step_size=0"],
        "schedule.step_size=0 is not valid; it must be an integer >= 1",
    ),
    (
        ["schedule=step", "schedule.step_size=abc"],
        "schedule.step_size='abc' is not valid; it must be an integer",
    ),
    (
        ["schedule.gamma=0.5"],
        "schedule.gamma=0.5 is not valid; the cosine schedule takes no "
        "gamma; its keys: t_max, eta_min, warmup_steps, warmup_start_factor",
    ),
    (
        ["schedule=multistep", "schedule.milestones=[30,10]"],
        "schedule.milestones=[30, 10] is "
        "not valid; it must be increasing epochs >= 1, e.g. [30, 60, 80]",
    ),
    (
        ["schedule.warmup_steps=-1"],
        "schedule.warmup_steps=-1 is not valid; it must be an integer >= 0",
    ),
    # data
    (
        ["logger=[tensorboard,mlfow]"],
        "logger='mlfow' is not valid; choose one of: csv, mlflow, none, tensorboard, wandb",
    ),
    (
        ["data=cifar"],
        "data='cifar' is not valid; choose one of: cifar10, cifar100, fashion_mnist, "
        "imagefolder, imagenette, mnist, stl10, synthetic, synthetic_hard",
    ),
    (
        ["data.source=cifar11"],
        "data.source='cifar11' is not valid; choose one of: synthetic, "
        "imagefolder, cifar10, cifar100, mnist, fashion_mnist, stl10, "
        "imagenette",
    ),
    (
        ["data=cifar100", "data.num_classes=10"],
        "data.num_classes=10 is not valid; CIFAR-100 "
        "(data=cifar100) has 100 classes; set it to 100 "
        "or null",
    ),
    (
        ["data=cifar10", "data.mean=[0.5,0.5]", "data.std=[0.2,0.2,0.2]"],
        "data.mean=[0.5, 0.5] is not valid; give data.mean and data.std together, three numbers "
        "each (R, G, B), e.g. [0.485,0.456,0.406]",
    ),
    (
        ["data=cifar10", "data.variant=320px"],
        "data.variant='320px' is not valid; data=cifar10 has "
        "no variants (only imagenette: full, 320px, 160px); "
        "leave it null",
    ),
    (
        ["data=imagenette", "data.variant=80px"],
        "data.variant='80px' is not valid; choose one of: full, 320px, 160px",
    ),
    (["data.batch_size=0"], "data.batch_size=0 is not valid; it must be an integer >= 1"),
    (["data.batch_size=abc"], "data.batch_size='abc' is not valid; it must be an integer"),
    (
        ["data.num_classes=100000"],
        "data.num_classes=100000 is not valid; the easy synthetic data has at most 1200 classes",
    ),
    (
        ["data=synthetic_hard", "data.num_classes=61"],
        "data.num_classes=61 is not valid; the hard synthetic data has at most 60 classes",
    ),
    (
        ["data.difficulty=medium"],
        "data.difficulty='medium' is not valid; choose one of: easy, hard",
    ),
    (
        ["data.image_size=8"],
        "data.image_size=8 is not valid; this model needs images of at least 15x15 pixels",
    ),
    (
        ["data.augment=random"],
        "data.augment='random' is not valid; choose one of: paper, torchvision, none",
    ),
    (
        ["data.eval_crop=five"],
        "data.eval_crop='five' is not valid; choose one of: center, ten_crop",
    ),
    (["data.num_workers=-1"], "data.num_workers=-1 is not valid; it must be an integer >= 0"),
    (
        ["data.pin_memory=yes"],
        "data.pin_memory='yes' is not valid; choose one of: auto, true, false",
    ),
    (["data.val_per_class=0"], "data.val_per_class=0 is not valid; it must be an integer >= 1"),
    (
        ["data=imagefolder"],
        "data.root=None is not valid; set it to an ImageFolder root, e.g. "
        "data.root=/data/imagenet (with train/ and val/ inside)",
    ),
    # trainer, logger, callbacks, debug, experiment
    (["trainer=tpu"], "trainer='tpu' is not valid; choose one of: auto, cpu, ddp, ddp_gpu, gpu"),
    (["trainer.max_epochs=abc"], "trainer.max_epochs='abc' is not valid; it must be an integer"),
    (
        ["trainer=ddp", "trainer.devices=0"],
        "trainer='trainer=cpu trainer=ddp trainer.devices=0' "
        "is not valid; "
        "MisconfigurationException: `Trainer(devices=0)` value is not a valid input using cpu "
        "accelerator.",
    ),
    (
        ["logger=neptune"],
        "logger='neptune' is not valid; choose one of: csv, mlflow, none, tensorboard, wandb",
    ),
    (
        ["callbacks.filters.every_n_epochs=0"],
        "callbacks.filters.every_n_epochs=0 is not valid; it must be an integer >= 1",
    ),
    (["debug=fast"], "debug='fast' is not valid; choose one of: fast_dev_run, limit, overfit"),
    (
        ["experiment=nope"],
        "experiment='nope' is not valid; choose one of: demo, finetune, paper, torchvision_recipe",
    ),
    # top-level keys
    (["seed=abc"], "seed='abc' is not valid; it must be an integer >= 0"),
    (["label_smoothing=1.5"], "label_smoothing=1.5 is not valid; it must be a number in [0, 1)"),
    (
        ["checkpoint_every_n_steps=-1"],
        "checkpoint_every_n_steps=-1 is not valid; it must be an integer >= 0",
    ),
    (["compile=maybe"], "compile='maybe' is not valid; it must be true or false"),
    (
        ["trainer=ddp", "trainer.strategy.timeout_s=0"],
        "trainer.strategy.timeout_s=0 is not valid; it must be a number of seconds > 0",
    ),
    (
        ["compile_backend=fast"],
        f"compile_backend='fast' is not valid; choose one of: {', '.join(compile_backends())}",
    ),
    (
        ["divergence_check=never"],
        "divergence_check='never' is not valid; choose one of: auto, step, deferred",
    ),
    (
        ["ckpt_path=/no/such.ckpt"],
        "ckpt_path='/no/such.ckpt' is not valid; no such checkpoint file or run dir",
    ),
    (
        ["foo=1"],
        "foo='1' is not valid; there is no such key; the top-level keys: model, "
        "activation, dropout, optimizer, schedule, data, trainer, logger, callbacks, "
        "paths, task_name, seed, ckpt_path, checkpoint_every_n_steps, label_smoothing, "
        "channels_last, compile, compile_backend, divergence_check, matmul_precision, "
        "sigterm_grace_s, test, optimized_metric, device_slots (a new key needs a "
        "leading +: +foo=...)",
    ),
    # syntax, and a sweep whose second value is bad
    (
        ["optimizer.betas=[0.9,0.99"],
        "override='optimizer.betas=[0.9,0.99' is not valid; it is "
        "not a valid Hydra override (no viable alternative at input '[0.9,0.99')",
    ),
    (["-m", "data.batch_size=8,abc"], "data.batch_size='abc' is not valid; it must be an integer"),
    (["seed=1,2"], "seed='1,2' is not valid; a sweep over several values needs -m (--multirun)"),
    (
        ["seed=null"],
        "seed=None is not valid; it must be an integer >= 0 (the synthetic images, "
        "the splits and the loaders' shuffles are drawn from it)",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "message"), TABLE, ids=[" ".join(overrides) for overrides, _ in TABLE]
)
def test_a_bad_override_stops_with_one_line_and_leaves_nothing(
    tmp_path, monkeypatch, overrides, message
):
    monkeypatch.setattr(
        sys,
        "argv",
        ["train.py", "model=mini", "trainer=cpu", *overrides, f"paths.log_dir={tmp_path}"],
    )
    with pytest.raises(SystemExit) as stopped:
        train_command()
    assert stopped.value.code == f"error: {message}"  # a message: printed, exit status 1
    assert not list(tmp_path.glob("train/*/*"))  # no run dir, no sweep dir


def test_the_table_covers_every_group():
    from alexnet.config import CONF_DIR

    groups = {p.name for p in CONF_DIR.iterdir() if p.is_dir()} - {
        "hydra",
        "paths",
        "ablation",
        "hparams_search",
    }
    named = {
        override.lstrip("+-").split("=")[0].split(".")[0]
        for overrides, _ in TABLE
        for override in overrides
    }
    assert groups <= named
