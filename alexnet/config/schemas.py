"""Typed schemas of the config groups, registered in Hydra's ConfigStore.

Each group's YAML files start from the group's schema (``defaults: [/schema/<group>@_here_,
_self_]``), so a key's type lives here once and a wrong type (``data.batch_size=abc``) fails at
composition. The lists of valid choices stay in the registries (activations, presets, optimizers,
schedules), which the checks read; YAML files hold values, no code.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, make_dataclass
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


@dataclass
class ModelSchema:
    """The knobs of every model preset; null keeps the preset's own value."""

    preset: str = "alexnet"
    lrn: bool | None = None
    lrn_scale: float | None = None
    pooling: str | None = None
    widths: list[int] | None = None
    hidden: int | None = None
    groups: int | None = None
    init: str | None = None
    conv1_padding: int | None = None
    dropout_placement: str | None = None
    in_channels: int | None = None
    weights: str | None = None  # imagenet, or a state_dict / .ckpt path (alexnet/models/weights.py)
    freeze: str = "none"  # none / features / all_but_head


@dataclass
class ActivationSchema:
    name: str = "relu"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class DropoutSchema:
    p: float = 0.5


def _optimizer_schema() -> type:
    """name, lr (no default here: each optimizer's YAML file owns its values), and every
    argument any registered optimizer takes (null: that optimizer's default; an argument the
    chosen optimizer does not take is refused when it is built)."""
    from alexnet.training.optim import OPTIMIZERS, optimizer_arguments

    fields: dict[str, tuple[str, Any, Any]] = {
        "name": ("name", str, field(default=MISSING)),  # each optimizer's file sets both:
        "lr": ("lr", float, field(default=MISSING)),  # its values have that one owner
    }
    for name in OPTIMIZERS:
        for key in optimizer_arguments(name):
            fields.setdefault(key, (key, Any, field(default=None)))
    return make_dataclass("OptimizerSchema", list(fields.values()))


OptimizerSchema = _optimizer_schema()


@dataclass
class ScheduleSchema:
    """Every schedule's arguments; each schedule reads its own (null: not set)."""

    name: str = MISSING  # each schedule's file sets it
    warmup_steps: int = 0  # linear warmup over this many optimizer steps
    warmup_start_factor: float = 0.01
    step_size: int | None = None  # step
    milestones: list[int] | None = None  # multistep
    gamma: float | None = None  # step, multistep, exponential
    t_max: int | None = None  # cosine (null: trainer.max_epochs)
    eta_min: float | None = None  # cosine
    monitor: str | None = None  # plateau
    mode: str | None = None  # plateau: max / min
    factor: float | None = None  # plateau
    patience: int | None = None  # plateau
    min_lr: float | None = None  # plateau


# Trainer arguments the run sets itself, or that hold objects rather than values.
_TRAINER_SET_BY_RUN = ("self", "logger", "callbacks", "plugins", "profiler", "model_registry")


def _trainer_schema() -> type:
    """Every lightning.pytorch.Trainer argument with a plain default, typed Any: so that
    ``trainer.<name>=...`` works for any of them (no ``+``), as the trainer configs say."""
    from lightning.pytorch import Trainer

    fields: list[tuple[str, Any, Any]] = [("_target_", str, "lightning.pytorch.Trainer")]
    for name, parameter in inspect.signature(Trainer.__init__).parameters.items():
        default = parameter.default
        if (
            name in _TRAINER_SET_BY_RUN
            or parameter.kind is not parameter.KEYWORD_ONLY
            and parameter.kind is not parameter.POSITIONAL_OR_KEYWORD
        ):
            continue
        if default is None or isinstance(default, (bool, int, float, str)):
            fields.append((name, _plain_type(parameter.annotation), field(default=default)))
    fields.append(("strategy", Any, field(default="auto")))  # a name or a strategy node
    unique = {name: (name, kind, value) for name, kind, value in fields}
    return make_dataclass("TrainerSchema", list(unique.values()))


def _plain_type(annotation: Any) -> Any:
    """int, bool, str or their Optional as typed in Lightning's signature; Any for the rest
    (unions such as int | float, literals, objects), which Lightning itself checks."""
    simple = (int, bool, str)
    if annotation in simple:
        return annotation
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    if len(args) == 1 and args[0] in simple and type(None) in annotation.__args__:
        return annotation
    return Any


TrainerSchema = _trainer_schema()


def _data_schema() -> type:
    """The DataModule's settings as its signature types and defaults them (one place: a new
    setting needs no schema line). Every field may be null, so that `${seed}` and a named
    dataset's nulls compose; the DataModule checks each value itself, naming its key."""
    from typing import get_type_hints

    from alexnet.data.datamodule import AlexNetDataModule

    hints = get_type_hints(AlexNetDataModule.__init__)
    fields: list[tuple[str, Any, Any]] = [
        ("_target_", str, field(default="alexnet.data.AlexNetDataModule"))
    ]
    for name, parameter in inspect.signature(AlexNetDataModule.__init__).parameters.items():
        if name == "self":
            continue
        kind = _data_type(hints[name])
        default = parameter.default
        value = (
            field(default_factory=lambda d=default: list(d))
            if isinstance(default, list)
            else field(default=default)
        )
        fields.append((name, Optional[kind] if kind is not Any else Any, value))
    return make_dataclass("DataSchema", fields)


def _data_type(annotation: Any) -> Any:
    """int, float, str, bool or a list of floats, as typed; Any for unions such as bool | str."""
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    inner = args[0] if len(args) == 1 else annotation
    if inner in (int, float, str, bool):
        return inner
    if getattr(inner, "__origin__", None) is list and getattr(inner, "__args__", ()) == (float,):
        return list[float]
    return Any


DataSchema = _data_schema()


@dataclass
class TrainSchema:
    """The train config's top level: its groups, then the run's own keys, typed here (their
    values: train.yaml's, the one owner; their ranges: run.setup.check_run_options)."""

    model: Any = None
    activation: Any = None
    dropout: Any = None
    optimizer: Any = None
    schedule: Any = None
    data: Any = None
    trainer: Any = None
    logger: Any = None
    callbacks: Any = None
    paths: Any = None
    task_name: str = MISSING
    seed: Optional[int] = MISSING  # null is refused with its reason, by the run's checks
    rng_offset: int = MISSING
    ckpt_path: Optional[str] = MISSING
    checkpoint_every_n_steps: int = MISSING
    label_smoothing: float = MISSING
    channels_last: bool = MISSING
    compile: bool = MISSING
    compile_backend: str = MISSING
    divergence_check: str = MISSING
    matmul_precision: str = MISSING
    sigterm_grace_s: float = MISSING
    test: bool = MISSING
    optimized_metric: Any = MISSING  # a metric, or a list of them (a multi-objective study)
    device_slots: Any = MISSING  # auto, or a number of slots


SCHEMAS: dict[str, type] = {
    "model": ModelSchema,
    "activation": ActivationSchema,
    "dropout": DropoutSchema,
    "optimizer": OptimizerSchema,
    "schedule": ScheduleSchema,
    "data": DataSchema,
    "trainer": TrainerSchema,
}
# Groups whose options carry keys beyond the schema's (an optimizer's momentum, ...).
OPEN_GROUPS = ("optimizer", "schedule")


# What every named dataset's config (alexnet/config/conf/data/cifar10.yaml, ...) starts from, as
# `schema/named_data`: kept out of the data group, where it would be an option of its own.
NAMED_DATA: dict[str, Any] = {
    "source": "???",  # each dataset's file sets it
    "root": "???",
    "image_size": None,  # the native size, upsampled to a power of two the model accepts
    "augment": "paper",
    "batch_size": 128,
    "num_workers": 2,
    "seed": "${seed}",
}


def register_schemas() -> None:
    """Store each group's schema as `schema/<group>`, `schema/named_data` and the train
    config's top level as `schema/train` (idempotent)."""
    from omegaconf import OmegaConf

    store = ConfigStore.instance()
    for group, schema in SCHEMAS.items():
        store.store(group="schema", name=group, node=schema)
    named = OmegaConf.merge(OmegaConf.structured(DataSchema), NAMED_DATA)
    store.store(group="schema", name="named_data", node=named)
    store.store(group="schema", name="train", node=TrainSchema)
