"""The top-k classes of image files: each file read and checked as training reads an
ImageFolder's (any mode made RGB, upright by its EXIF orientation, a decompression bomb refused
undecoded), through the model's evaluation pipeline (its size, mean and std; a centre crop or
ten crops), batched by a DataLoader with workers; an unreadable file is skipped and named."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from alexnet.data.imagefolder import PILLOW_MAX_PIXELS, load_rgb
from alexnet.data.loaders import init_worker
from alexnet.data.names import shown
from alexnet.data.pipelines import renders_at_crop_size
from alexnet.data.transforms import eval_transform
from alexnet.errors import DataError, InvalidValue, check_int

log = logging.getLogger(__name__)
UNREADABLE = (OSError, SyntaxError, ValueError, MemoryError)  # PIL's ways, and ImageTooLarge


@dataclass(frozen=True)
class Preprocessing:
    """How a model's images are prepared: the shorter side resized to `resize_size`, a
    `image_size` centre crop (or ten crops), normalized by `mean` and `std`."""

    image_size: int
    resize_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    eval_crop: str = "center"
    max_image_pixels: int = PILLOW_MAX_PIXELS

    @classmethod
    def of(cls, datamodule: Any, trained_on_it: bool = True) -> Preprocessing:
        """The evaluation pipeline of an AlexNetDataModule (its settings after fit_to_model).
        A model `trained_on_it` that saw synthetic images evaluated them as drawn, at the crop
        size (a centre crop): a file of that size goes through unchanged, a larger one is
        resized to it, not cropped. Pretrained weights (not trained on it) get the photographs'
        resize and crop."""
        mean, std = datamodule.stats
        at_crop = (
            trained_on_it
            and datamodule.source == "synthetic"
            and renders_at_crop_size("val", datamodule.augment, datamodule.eval_crop)
        )
        return cls(
            int(datamodule.image_size),
            int(datamodule.image_size if at_crop else datamodule.resize_size),
            tuple(map(float, mean)),
            tuple(map(float, std)),
            datamodule.eval_crop,
            int(datamodule.max_image_pixels),
        )

    def transform(self) -> Any:
        return eval_transform(
            self.eval_crop, self.image_size, self.resize_size, stats=(self.mean, self.std)
        )


@dataclass
class Prediction:
    """One file's top-k: class indices and names, best first, and their probabilities."""

    path: Path
    indices: list[int]
    names: list[str]
    probs: list[float]


class ImageFiles(Dataset):
    """The files, each as (image tensor or None, its index, why it is unreadable or "")."""

    def __init__(self, paths: Sequence[Path], preprocessing: Preprocessing) -> None:
        self.paths, self.preprocessing = list(paths), preprocessing
        self.transform = preprocessing.transform()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor | None, int, str]:
        prep = self.preprocessing
        try:
            image = load_rgb(str(self.paths[index]), prep.max_image_pixels, prep.resize_size)
            return self.transform(image), index, ""
        except UNREADABLE as err:
            return None, index, shown(str(err) or type(err).__name__)


def collate(items: list[tuple[torch.Tensor | None, int, str]]) -> tuple[Any, list[int], list]:
    """(stacked images or None, their indices, [(index, why)] of the unreadable ones)."""
    good = [(image, index) for image, index, _ in items if image is not None]
    images = torch.stack([image for image, _ in good]) if good else None
    bad = [(index, why) for image, index, why in items if image is None]
    return images, [index for _, index in good], bad


def check_top_k(top_k: Any, num_classes: int) -> None:
    check_int("top_k", top_k, minimum=1)
    if top_k > num_classes:
        raise InvalidValue("top_k", top_k, f"the model has {num_classes} classes: choose 1 to it")


def class_probabilities(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Softmax scores of a batch; ten crops (B, crops, C, H, W) average their softmax, as
    evaluation does."""
    if images.dim() == 5:
        crops = images.shape[1]
        probs = model(images.flatten(0, 1)).softmax(-1)
        return probs.view(images.shape[0], crops, -1).mean(1)
    return model(images).softmax(-1)


def _bounded(loader: DataLoader, timeout_s: float) -> Iterator[Any]:
    """The loader's batches; its workers' timeout as one line."""
    try:
        yield from loader
    except RuntimeError as err:
        if "timed out" in str(err):
            raise DataError(
                f"no batch from the loader workers in {timeout_s:g} s (data.loader_timeout_s)"
            ) from None
        if "exited unexpectedly" in str(err):
            raise DataError(f"a loader worker died: {str(err).splitlines()[0]}") from None
        raise


def predict(
    model: torch.nn.Module,
    paths: Sequence[Path],
    preprocessing: Preprocessing,
    class_names: Sequence[str],
    top_k: int = 5,
    batch_size: int = 64,
    num_workers: int = 0,
    device: str = "cpu",
    progress: bool | None = None,
    skipped: list[Path] | None = None,
    timeout_s: float = 300.0,
) -> Iterator[Prediction]:
    """The top-k of each readable file of `paths`, in their order; an unreadable one is logged
    with its reason, added to `skipped` and left out. `progress` None: a bar on a terminal."""
    from tqdm.auto import tqdm

    check_top_k(top_k, len(class_names))
    check_int("batch_size", batch_size, minimum=1)
    check_int("num_workers", num_workers, minimum=0)
    loader = DataLoader(
        ImageFiles(paths, preprocessing),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=collate,
        pin_memory=torch.device(device).type == "cuda",
        worker_init_fn=init_worker if num_workers else None,
        persistent_workers=False,
        timeout=timeout_s if num_workers else 0,
    )
    model = model.to(device).eval()
    skipped = [] if skipped is None else skipped
    with (
        torch.inference_mode(),
        tqdm(
            total=len(paths), unit="img", disable=None if progress is None else not progress
        ) as bar,
    ):
        for images, indices, bad in _bounded(loader, timeout_s):
            for index, why in bad:
                skipped.append(paths[index])
                log.warning("Skipped unreadable image %s (%s)", shown(paths[index]), why)
            if images is not None:
                images = images.to(device, non_blocking=True)
                best, classes = class_probabilities(model, images).topk(top_k, dim=-1)
                best, classes = best.float().cpu().tolist(), classes.cpu().tolist()
                for index, probs, ranked in zip(indices, best, classes):
                    names = [class_names[c] for c in ranked]
                    yield Prediction(paths[index], ranked, names, probs)
            bar.update(len(indices) + len(bad))
