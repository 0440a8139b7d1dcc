"""The DataModule's settings checked before anything is read: each bad one is one line naming
its key, the value and what would do; and the data source object the settings describe."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alexnet.data.imagefolder import BAD_FILE_POLICIES
from alexnet.data.named import NAMED, named_dataset
from alexnet.data.sources import DataSource, FolderSource, NamedSource, SyntheticSource
from alexnet.data.synthetic import DIFFICULTIES
from alexnet.data.transforms import Stats
from alexnet.errors import InvalidValue, check_choice, check_finite, check_int, check_number

SOURCES = ("synthetic", "imagefolder", *NAMED)
RENDER_ON = ("loader", "device")
DECODE = ("loader", "device")


def check_settings(settings: Mapping[str, Any]) -> str | None:
    """Raise InvalidValue for the first bad one of the DataModule's `settings` (its
    arguments by name); return the root to read (a named dataset's default, data/<name>,
    when none is given)."""
    source, root, image_size = settings["source"], settings["root"], settings["image_size"]
    check_choice("data.source", source, SOURCES)
    check_int("data.batch_size", settings["batch_size"], minimum=1)
    named = source in NAMED
    if image_size is None and not named:
        raise InvalidValue(
            "data.image_size",
            None,
            "set the crop size in pixels (null picks a named dataset's native size)",
        )
    if image_size is not None:
        check_int("data.image_size", image_size, minimum=8)
    check_int("data.num_workers", settings["num_workers"], minimum=0)
    for split in ("train", "val", "test"):
        check_int(f"data.{split}_per_class", settings[f"{split}_per_class"], minimum=1)
    if settings["pin_memory"] != "auto" and not isinstance(settings["pin_memory"], bool):
        raise InvalidValue(
            "data.pin_memory", settings["pin_memory"], "choose one of: auto, true, false"
        )
    check_choice("data.bad_files", settings["bad_files"], BAD_FILE_POLICIES)
    check_int("data.max_image_pixels", settings["max_image_pixels"], minimum=1)
    if not isinstance(settings["cache"], bool):
        raise InvalidValue("data.cache", settings["cache"], "it must be true or false")
    check_int("data.cache_limit_mib", settings["cache_limit_mib"], minimum=0)
    check_choice("data.difficulty", settings["difficulty"], DIFFICULTIES)
    if settings["difficulty"] != "easy" and source != "synthetic":
        raise InvalidValue(
            "data.difficulty",
            settings["difficulty"],
            "a task of the synthetic data: use data=synthetic (or data=synthetic_hard)",
        )
    _check_placement(
        source,
        settings["augment"],
        settings["eval_crop"],
        settings["render_on"],
        settings["decode"],
    )
    if source == "imagefolder" and not root:
        raise InvalidValue(
            "data.root",
            root,
            "set it to an ImageFolder root, e.g. "
            "data.root=/data/imagenet (with train/ and val/ inside)",
        )
    if settings["variant"] is not None:
        variants = named_dataset(source).variants if named else ()
        if not variants:
            raise InvalidValue(
                "data.variant",
                settings["variant"],
                f"data={source} has no variants "
                "(only imagenette: full, 320px, 160px); leave it null",
            )
        check_choice("data.variant", settings["variant"], variants)
    check_number("data.loader_timeout_s", settings["loader_timeout_s"], 0, None, low_open=True)
    if settings["pca_sigma"] is not None:  # the colour noise's std (augment=paper)
        check_number("data.pca_sigma", settings["pca_sigma"], 0)
    if not isinstance(settings.get("pca_relative", False), bool):
        raise InvalidValue(
            "data.pca_relative", settings["pca_relative"], "it must be true or false"
        )
    return str(Path("data") / source) if named and not root else root


def _check_placement(
    source: str, augment: str, eval_crop: str, render_on: str, decode: str
) -> None:
    """Where images are drawn (render_on) and decoded (decode), and what each needs."""
    check_choice("data.render_on", render_on, RENDER_ON)
    drawable = (source, augment, eval_crop) == ("synthetic", "none", "center")
    if render_on == "device" and not drawable:
        raise InvalidValue(
            "data.render_on",
            render_on,
            "rendering on the device needs "
            "data=synthetic, data.augment=none and data.eval_crop=center",
        )
    check_choice("data.decode", decode, DECODE)
    if decode == "device" and source != "imagefolder":
        raise InvalidValue(
            "data.decode",
            decode,
            "decoding on the device is for "
            "data=imagefolder (synthetic images: data.render_on=device)",
        )


def given_stats(key: str, mean: list[float] | None, std: list[float] | None) -> Stats | None:
    """(mean, std) as given, both or neither, three channels each, positive std."""
    if mean is None and std is None:
        return None
    for name, values in (("mean", mean), ("std", std)):
        if (
            values is None
            or len(values) != 3
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values)
        ):
            raise InvalidValue(
                f"{key}.{name}",
                values,
                "give data.mean and data.std together, "
                "three numbers each (R, G, B), e.g. [0.485,0.456,0.406]",
            )
        check_finite(f"{key}.{name}", list(values))
    if min(std) <= 0:
        raise InvalidValue(f"{key}.std", std, "each std must be > 0")
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def make_source(settings: Mapping[str, Any], root: str | None) -> DataSource:
    """The source object the DataModule's `settings` (checked) describe, reading `root`."""
    source, seed, val_fraction = settings["source"], settings["seed"], settings["val_fraction"]
    if source == "synthetic":
        per_class = {split: settings[f"{split}_per_class"] for split in ("train", "val", "test")}
        return SyntheticSource(settings["difficulty"], per_class, seed)
    if source == "imagefolder":
        device = settings["decode"] == "device"
        bad, max_pixels = settings["bad_files"], settings["max_image_pixels"]
        return FolderSource(str(root), val_fraction, seed, bad, max_pixels, device)
    variant, download = settings["variant"], settings["download"]
    return NamedSource(source, str(root), variant, download, val_fraction, seed)
