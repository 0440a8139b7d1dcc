"""A trained model as the commands that use one load it (eval, interpret, predict, export): from
a checkpoint, with the data settings it was trained with, or from a preset's pretrained weights;
its class names in the head's order and what it came from."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from alexnet.data import AlexNetDataModule
from alexnet.errors import InvalidValue
from alexnet.models import create_model
from alexnet.models.presets import preset_knobs
from alexnet.models.weights import IMAGENET, KEY, load_weights
from alexnet.run.checkpoints import check_checkpoint, resolve_checkpoint
from alexnet.run.model_card import KEY as CARD
from alexnet.training.module import AlexNetModule

log = logging.getLogger(__name__)


@dataclass
class Trained:
    """A model ready to use (on the CPU, in eval mode) and what a consumer needs beside it."""

    model: torch.nn.Module
    datamodule: AlexNetDataModule  # its data settings: size, resize, mean, std, eval crop
    class_names: list[str]
    about: dict[str, Any] = field(default_factory=dict)  # checkpoint or weights, knobs, commit


def load_checkpoint(
    ckpt_path: str, data: DictConfig | None = None
) -> tuple[Path, AlexNetModule, AlexNetDataModule]:
    """A checkpoint (a file or a run dir's newest), checked, its module on the CPU and a
    datamodule with the checkpoint's data settings, each non-null key of `data` replacing one
    (another `source` drops the checkpoint's root and variant)."""
    path = resolve_checkpoint(ckpt_path)
    check_checkpoint(path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    data_args = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    given = _given(data)
    if given.get("source", data_args.get("source")) != data_args.get("source"):
        for key in ("root", "variant"):  # the checkpoint's dataset's, not the new one's
            data_args.pop(key, None)
    if "source" in given or "root" in given:  # other data: its classes are its own
        data_args.pop("num_classes", None)
    data_args.update(given)
    datamodule = AlexNetDataModule(**data_args)
    module = AlexNetModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    fit_to_model(datamodule, module.model.min_input_size)  # its normalization: in data_args
    return path, module, datamodule


def load_pretrained(
    preset: str, weights: str, data: DictConfig | None = None, head_of_file: bool = False
) -> tuple[torch.nn.Module, AlexNetDataModule]:
    """`preset` filled with `weights` (``imagenet`` or a file) and a datamodule of `data`'s
    non-null keys, normalizing as the weights expect. The head has the data's classes (a file's
    head with another count is initialized afresh), or with `head_of_file` the file's own.
    Without a data.image_size, the images are cut as the ImageNet weights were evaluated."""
    datamodule = AlexNetDataModule(**{"image_size": imagenet_crop(), **_given(data)})
    if weights == IMAGENET:
        classes = 1000
    else:
        classes = head_classes(weights) if head_of_file else datamodule.num_classes
    model = create_model(preset, num_classes=classes)
    info = load_weights(model, weights, preset=preset, log=log)
    fit_to_model(datamodule, model.min_input_size, {**info, "source": weights})
    return model, datamodule


def load_trained(
    ckpt_path: str | None,
    preset: str,
    weights: str | None,
    data: DictConfig | None = None,
    as_trained: bool = True,
) -> Trained:
    """The model of `ckpt_path`, or else of `preset` with `weights`: ready to use. `as_trained`
    (predict, export): a weights file keeps its own head, and one of our .ckpt files is read as
    a checkpoint; else (interpret) the head fits `data`'s classes."""
    if as_trained and not ckpt_path and weights and str(weights).endswith(".ckpt"):
        ckpt_path = str(weights)  # one of ours: its data settings, knobs and class names too
    if ckpt_path:
        path, module, datamodule = load_checkpoint(best_checkpoint(ckpt_path), data)
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        card = checkpoint.get(CARD) or {}
        spec = dict(module.hparams["model"])
        model = module.model.eval()
        names = _names(card.get("class_names"), model.num_classes, datamodule, str(path))
        about = {
            "checkpoint": str(path.resolve()),
            "model": {"preset": spec.pop("preset", "alexnet"), **spec},
            "commit": card.get("commit"),
            "lab_version": card.get("lab_version"),
        }
    elif weights:
        model, datamodule = load_pretrained(preset, str(weights), data, head_of_file=as_trained)
        model.eval()
        names = imagenet_names() if weights == IMAGENET else None
        names = _names(names, model.num_classes, datamodule, str(weights))
        about = {"weights": str(weights), "model": {"preset": preset, "num_classes": 1000}}
    else:
        raise InvalidValue(
            "ckpt_path",
            None,
            "set ckpt_path=<checkpoint or run dir>, or model.weights=imagenet|<file>",
        )
    about["model"] = {**preset_knobs(about["model"]["preset"]), **about["model"]}
    about["model"]["num_classes"] = model.num_classes
    return Trained(model, datamodule, names, about)


def best_checkpoint(ckpt_path: str) -> str:
    """A checkpoint file as given; for a run dir, the best checkpoint its metrics.json names
    (where it still exists), else its newest."""
    record = Path(ckpt_path) / "metrics.json"
    if record.is_file():
        try:
            best = json.loads(record.read_text()).get("best_checkpoint")
        except (OSError, ValueError):
            best = None
        if best and Path(best).is_file():
            return str(best)
    return ckpt_path


def head_classes(path: str) -> int:
    """The class count of a state_dict file's head: the rows of its last 2-D weight."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any failure to read means the same to the user
        raise InvalidValue(KEY, path, f"not a readable state_dict ({type(err).__name__})") from None
    matrices = [v for k, v in (state or {}).items() if k.endswith("weight") and v.dim() == 2]
    if not isinstance(state, dict) or not matrices:
        raise InvalidValue(
            KEY, path, "it holds no linear layer's weights: not a model's state_dict"
        )
    return int(matrices[-1].shape[0])


def imagenet_names() -> list[str]:
    """The 1000 ImageNet class names in the order of torchvision's AlexNet head."""
    from torchvision.models import AlexNet_Weights

    return list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


def imagenet_crop() -> int:
    """The crop torchvision evaluates its ImageNet AlexNet weights at (224)."""
    from torchvision.models import AlexNet_Weights

    return int(AlexNet_Weights.IMAGENET1K_V1.transforms().crop_size[0])


def fit_to_model(
    datamodule: AlexNetDataModule, min_input_size: int, weights: dict[str, Any] | None = None
) -> None:
    """A data config's DataModule made ready for its model, in the one order every command
    keeps: the image size fitted to the model's smallest input, then the normalization of the
    weights it starts from (their mean and std, where they have their own)."""
    datamodule.fit_to_model(min_input_size)
    if weights and weights.get("mean") is not None and weights.get("std") is not None:
        datamodule.follow_weights((weights["mean"], weights["std"]), weights["source"])


def _given(data: DictConfig | None) -> dict[str, Any]:
    if data is None:
        return {}
    return {k: v for k, v in OmegaConf.to_container(data, resolve=True).items() if v is not None}


def _names(
    names: list[str] | None, count: int, datamodule: AlexNetDataModule, origin: str
) -> list[str]:
    """The class names a model's head scores, or names by index where its origin keeps none."""
    if names and len(names) == count:
        return list(names)
    if datamodule.source == "synthetic":
        return [f"class_{i:04d}" for i in range(count)]  # the names the synthetic data has
    log.warning(
        "%s keeps no class names (saved before model cards): classes named by index", origin
    )
    return [f"class_{i}" for i in range(count)]
