"""Pretrained weights and frozen layers: ``model.weights`` and ``model.freeze``.

`load_weights` fills a model from torchvision's ImageNet AlexNet weights (``imagenet``, through
torchvision's weights API and its cache), from a plain state_dict file (``torch.save`` of a
``model.state_dict()``, e.g. torchvision's) or from one of our Lightning checkpoints (``.ckpt``,
keys prefixed ``model.``). A head (the last Linear layer) with another class count keeps the
model's own fresh initialization; any other misfit is one line naming the first layer that
differs. `freeze` stops gradients to a part of the network:

- ``none``: every layer trains.
- ``features``: the conv stack (``features.*``: conv1..conv5 of alexnet) is frozen; the
  classifier (fc6, fc7 and the head fc8) trains.
- ``all_but_head``: a linear probe: only the head (fc8 of alexnet, fc5 of mini) trains.

Frozen layers stay in whatever train/eval mode the trainer sets: the classifier's dropouts still
apply in training (``dropout=none`` turns them off for a deterministic probe).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

import torch
from torch import nn

from alexnet.errors import DataError, InvalidValue, check_choice

KEY = "model.weights"
IMAGENET = "imagenet"
FREEZES: tuple[str, ...] = ("none", "features", "all_but_head")
Stats = tuple[float, ...]  # per-channel mean or std
_log = logging.getLogger(__name__)


class WeightsInfo(TypedDict):
    """What `load_weights` did, and the input normalization the weights expect."""

    source: str  # imagenet, or the file's path
    kind: str  # imagenet / state_dict / checkpoint
    loaded: bool  # False when resuming skipped the imagenet weights
    head_reinitialized: bool  # the file's head had another class count
    mean: Stats | None  # None: unknown (a checkpoint without data statistics)
    std: Stats | None


def load_weights(
    model: nn.Module,
    source: str,
    *,
    preset: str | None = None,
    resuming: bool = False,
    log: logging.Logger | None = None,
) -> WeightsInfo:
    """Load `source` (``imagenet`` or a file's path) into `model`, in place.

    `preset` names the model's preset, for a clearer message when it is not ``alexnet`` (the
    only one in torchvision's layout). `resuming`: the run resumes from a checkpoint whose
    weights replace these, so the imagenet weights are neither downloaded nor read.
    Raises InvalidValue (a bad source, a misfit) or DataError (a failed download) as one line.
    """
    log = log or _log
    if source == IMAGENET:
        _check_imagenet_fits(model, preset)
        mean, std = _imagenet_stats()
        if resuming:
            log.info("%s=imagenet not loaded: the resumed checkpoint's weights replace it", KEY)
            return WeightsInfo(
                source=source,
                kind=IMAGENET,
                loaded=False,
                head_reinitialized=False,
                mean=mean,
                std=std,
            )
        state, kind = _imagenet_state_dict(log), IMAGENET
    else:
        state, kind, mean, std = _read_file(source)
    head = _fit(model, state, source)
    if head is not None:
        log.info(
            "%s=%s: its head %s has %d classes, the model %d: %s is re-initialized "
            "(the model's own init), the other layers are loaded",
            KEY,
            source,
            head[0],
            head[1],
            head[2],
            head[0],
        )
        state = {k: v for k, v in state.items() if not k.startswith(head[0] + ".")}
    model.load_state_dict(state, strict=head is None)
    log.info("%s=%s: loaded %d tensors (%s)", KEY, source, len(state), kind)
    return WeightsInfo(
        source=source,
        kind=kind,
        loaded=True,
        head_reinitialized=head is not None,
        mean=mean,
        std=std,
    )


def freeze(model: nn.Module, what: str) -> None:
    """Stop the gradients of part `what` of `model` (one of FREEZES; see the module docstring).

    Only ``requires_grad`` changes, so the optimizer must be given the parameters that still
    require gradients (`trainable_parameters`).
    """
    check_choice("model.freeze", what, FREEZES)
    head = head_name(model)
    for name, param in model.named_parameters():
        if what == "features":
            frozen = name.startswith("features.")
        else:
            frozen = what == "all_but_head" and not name.startswith(head + ".")
        param.requires_grad_(not frozen)


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of `model` that require gradients (what the optimizer updates)."""
    return [p for p in model.parameters() if p.requires_grad]


def head_name(model: nn.Module) -> str:
    """The module name of the last Linear layer of `model` (``classifier.6`` for alexnet)."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not names:
        raise ValueError(f"{type(model).__name__} has no Linear layer")
    return names[-1]


def _fit(
    model: nn.Module, state: Mapping[str, torch.Tensor], source: str
) -> tuple[str, int, int] | None:
    """Check that `state` fits `model`; return (head, the file's classes, the model's) when only
    the head's class count differs, None when all fits; else raise naming the first misfit."""
    head = head_name(model)
    other_classes = None
    own = model.state_dict()
    for key, tensor in own.items():
        theirs = state.get(key)
        if theirs is None:
            raise InvalidValue(
                KEY,
                source,
                f"it does not fit the model: it has no {key} (the model's is {list(tensor.shape)})",
            )
        if theirs.shape == tensor.shape:
            continue
        in_head = key.startswith(head + ".") and theirs.shape[1:] == tensor.shape[1:]
        if not in_head:
            raise InvalidValue(
                KEY,
                source,
                f"it does not fit the model: {key} is "
                f"{list(theirs.shape)} in the file but {list(tensor.shape)} "
                f"in the model",
            )
        other_classes = theirs.shape[0]
    extra = [key for key in state if key not in own]
    if extra:
        raise InvalidValue(
            KEY,
            source,
            f"it does not fit the model: its {extra[0]} "
            f"{list(state[extra[0]].shape)} has no place in the model",
        )
    if other_classes is None:
        return None
    return head, int(other_classes), int(own[head + ".weight"].shape[0])


def _read_file(source: str) -> tuple[dict[str, torch.Tensor], str, Stats | None, Stats | None]:
    """(state_dict, kind, mean, std) of a state_dict file or a Lightning checkpoint."""
    path = Path(os.path.expanduser(source))
    if not path.is_file():
        raise InvalidValue(
            KEY,
            source,
            "no such file; give imagenet, or the path of a state_dict file or a .ckpt checkpoint",
        )
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to read means the same to the user
        raise InvalidValue(
            KEY,
            source,
            f"it is not a readable state_dict or checkpoint "
            f"({type(err).__name__}: {_first_line(err)})",
        ) from None
    if isinstance(loaded, Mapping) and isinstance(loaded.get("state_dict"), Mapping):
        prefixed = loaded["state_dict"]
        state = {k.removeprefix("model."): v for k, v in prefixed.items() if k.startswith("model.")}
        data = loaded.get("datamodule_hyper_parameters") or {}
        return state, "checkpoint", _stats(data.get("mean")), _stats(data.get("std"))
    if (
        isinstance(loaded, Mapping)
        and loaded
        and all(isinstance(v, torch.Tensor) for v in loaded.values())
    ):
        return dict(loaded), "state_dict", *_imagenet_stats()
    raise InvalidValue(
        KEY, source, "it holds neither a state_dict (names to tensors) nor a Lightning checkpoint"
    )


def _check_imagenet_fits(model: nn.Module, preset: str | None) -> None:
    """Only torchvision's layout takes the imagenet weights: checked before any download."""
    if preset is not None and preset != "alexnet":
        raise InvalidValue(
            KEY,
            IMAGENET,
            f"only model=alexnet (torchvision's layout) can take "
            f"the ImageNet weights, not model={preset}",
        )
    from torchvision.models import alexnet

    with torch.device("meta"):  # shapes only: no memory, no init
        shapes = {k: v.shape for k, v in alexnet(weights=None).state_dict().items()}
    head = head_name(model)
    for key, tensor in model.state_dict().items():
        theirs = shapes.get(key)
        fits = theirs is not None and (
            theirs == tensor.shape
            or (key.startswith(head + ".") and theirs[1:] == tensor.shape[1:])
        )
        if not fits:
            wanted = list(theirs) if theirs is not None else "absent"
            raise InvalidValue(
                KEY,
                IMAGENET,
                f"only the alexnet preset with torchvision's "
                f"layout can take the ImageNet weights: {key} is {wanted} there "
                f"but {list(tensor.shape)} in this model",
            )


def _imagenet_state_dict(log: logging.Logger) -> dict[str, torch.Tensor]:
    """torchvision's IMAGENET1K_V1 AlexNet weights, from its cache or downloaded into it."""
    from torchvision.models import AlexNet_Weights

    weights = AlexNet_Weights.IMAGENET1K_V1
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    cached = folder / Path(weights.url).name
    was_cached = cached.is_file()
    if not was_cached:
        log.info(
            "Downloading torchvision's ImageNet AlexNet weights from %s into %s",
            weights.url,
            folder,
        )
    try:
        return weights.get_state_dict(progress=True, check_hash=True)
    except Exception as err:  # noqa: BLE001 - offline, refused, corrupt: the same advice
        reason = f"{type(err).__name__}: {_first_line(err)}"
        if was_cached:
            raise DataError(
                f"{KEY}=imagenet: the cached file {cached} cannot be read "
                f"({reason}); delete it, or replace it by a good copy of "
                f"{weights.url}"
            ) from None
        raise DataError(
            f"{KEY}=imagenet: could not download {weights.url} ({reason}); "
            f"offline, fetch that file elsewhere and put it by hand into "
            f"{folder}/"
        ) from None


def _imagenet_stats() -> tuple[Stats, Stats]:
    from alexnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD  # lazy: data loads Lightning

    return tuple(IMAGENET_MEAN), tuple(IMAGENET_STD)


def _stats(value: Any) -> Stats | None:
    return tuple(float(v) for v in value) if value is not None else None


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return (lines or [""])[0][:200]
