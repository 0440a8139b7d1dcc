"""The rows of tests/config/test_bad_overrides.py's table for the model and how it trains: bad
overrides of model, activation, dropout, optimizer and schedule, each with the one line that must
stop `train.py`."""

CHOICES_ACTIVATION = "elu, gelu, leaky_relu, relu, relu6, sigmoid, silu, tanh"
BAD_MODEL_OVERRIDES = [
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
        ["model.lrn_scale=-1"],
        "model.lrn_scale=-1.0 is not valid; it must be a number >= 0 (1: the constants as "
        "given; 57.6: the paper's input scale; 0: LRN's constant gain k^-beta alone, its "
        "control arm)",
    ),
    (
        ["matmul_precision=tf32"],
        "matmul_precision='tf32' is not valid; choose one of: highest, high, medium",
    ),
    (["sigterm_grace_s=0"], "sigterm_grace_s=0.0 is not valid; it must be a number > 0"),
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
]
