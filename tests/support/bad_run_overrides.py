"""The rows of tests/config/test_bad_overrides.py's table for the rest of a run: bad overrides of
data, trainer, logger, callbacks, debug, experiment and the top-level keys, bad syntax and a sweep
whose second value is bad, each with the one line that must stop `train.py`."""

from alexnet.run.setup import compile_backends

BAD_RUN_OVERRIDES = [
    # data
    (
        ["logger=[tensorboard,mlfow]"],
        "logger='mlfow' is not valid; choose one of: csv, mlflow, none, tensorboard, wandb",
    ),
    (
        ["data=cifar"],
        "data='cifar' is not valid; choose one of: cifar10, cifar100, fashion_mnist, "
        "imagefolder, imagenette, mnist, stl10, synthetic, synthetic_hard, synthetic_hard_v1",
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
    (["seed=abc"], "seed='abc' is not valid; it must be an integer"),
    (["seed=-1"], "seed=-1 is not valid; it must be an integer >= 0"),
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
        "paths, task_name, seed, rng_offset, ckpt_path, checkpoint_every_n_steps, "
        "label_smoothing, "
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
