"""AlexNetDataModule: synthetic or ImageFolder images, with the paper's augmentation."""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from alexnet.data.batch_transforms import BatchTransform
from alexnet.data.colour_pca import ColourBasis, training_basis
from alexnet.data.encoded import EncodedBatch, collate_encoded, decode_batch
from alexnet.data.imagefolder import (
    BAD_FILE_POLICIES,
    PILLOW_MAX_PIXELS,
    SkipBadFiles,
)
from alexnet.data.loaders import build_loader, loader_settings
from alexnet.data.named import NAMED, named_dataset
from alexnet.data.sources import DataSource, FolderSource, NamedSource, SyntheticSource
from alexnet.data.synthetic import DIFFICULTIES, SPLITS
from alexnet.data.transforms import (
    IMAGENET_STATS,
    FancyPCA,
    Stats,
    eval_transform,
    normalize_imagenet,
    normalizer,
    resize_for,
    train_transform,
)
from alexnet.errors import InvalidValue, check_choice, check_int, check_number

log = logging.getLogger(__name__)

SOURCES = ("synthetic", "imagefolder", *NAMED)
RENDER_ON = ("loader", "device")
DECODE = ("loader", "device")
SPLIT_NAMES = {number: name for name, number in SPLITS.items()}


@dataclass  # not frozen: Lightning's transfer rebuilds dataclasses (holding no tensor: as is)
class DrawLater:
    """Synthetic images to draw once the batch is on its device (``render_on=device``): which
    split and indices, as host numbers (the transfer leaves them alone)."""

    split: str
    indices: list[int]


class AlexNetDataModule(L.LightningDataModule):
    """Train/val/test loaders over synthetic images (no download), an ImageFolder root or a
    named dataset (``cifar10``, ``cifar100``, ``mnist``, ``fashion_mnist``, ``stl10``,
    ``imagenette``) read by torchvision's own class.

    Args:
        source: ``synthetic``, ``imagefolder`` or a named dataset.
        root: the ImageFolder root (``train/`` and ``val/``, or class folders to split), or the
            named dataset's root (its torchvision class's ``root``; downloaded there on first
            use unless ``download`` is false).
        num_classes: classes of the synthetic data (None: 10); for an ImageFolder or a named
            dataset, the count the data must have (None: whatever it has).
        image_size: the crop the model sees; images are first resized to ``resize_size``
            (default 256/224 of it) on their shorter side, as ImageNet's protocol. None (named
            datasets only): the dataset's native size, upsampled to the smallest power of two
            the model accepts (``resize_size`` equal to it keeps the images whole).
        mean, std: the normalization (None: the named dataset's own statistics, ImageNet's for
            synthetic images and ImageFolders, or those of the loaded weights).
        variant: Imagenette's image size: ``full``, ``320px`` (default) or ``160px``.
        cache: render the synthetic images once and serve them from memory, when all splits
            fit ``cache_limit_mib`` (MiB, float32 images); larger sets are drawn on the fly
            (O(1) memory). Rendering on the device never caches.
        download: download a named dataset missing from ``root`` (false: one line instead).
        augment: ``paper`` (random crop, flip, fancy PCA), ``torchvision`` (RandomResizedCrop,
            flip) or ``none``.
        eval_crop: ``center`` or ``ten_crop`` (softmax averaged over the 10 crops).
        train_per_class, val_per_class, test_per_class: synthetic images per class and split.
        difficulty: the synthetic task, ``easy`` (default) or ``hard`` (cluttered 1/f scenes,
            occlusion, classes on an attribute grid with overlapping nuisances: see
            alexnet.data.synthetic_hard); `data_version` names it in every run's record.
        val_fraction: share of each class held out when an ImageFolder root has no val/.
        render_on: where synthetic images are drawn: ``loader`` (its workers, on the CPU) or
            ``device`` (the training device, after the batch of indices is moved there; needs
            ``augment=none`` and ``eval_crop=center``).
        decode: where ImageFolder JPEGs are decoded and transformed: ``loader`` (its workers,
            with PIL) or ``device`` (the training device, e.g. with nvJPEG on a GPU; the workers
            only read the files; other image formats are still decoded by the workers).
        pin_memory: page-locked host batches, which copy to a GPU asynchronously: ``auto``
            (default: when the trainer's device is a CUDA GPU), true or false.
        max_image_pixels: an ImageFolder image with more pixels is never decoded (a possible
            decompression bomb) and counts as a bad file; default: Pillow's limit.
        bad_files: ``skip`` (default: warn, count, and use the next readable image) or ``fail``
            for an ImageFolder file that cannot be read (not an image, truncated, corrupt).
        batch_size: per device (each DDP process loads its own batches of this size).
        loader_timeout_s: the longest wait for a batch from the loader's workers; past it the
            run ends with one line (a worker that failed or hung), never waits forever.
    """

    def __init__(
        self,
        source: str = "synthetic",
        root: str | None = None,
        num_classes: int | None = None,
        image_size: int | None = 224,
        resize_size: int | None = None,
        augment: str = "none",
        eval_crop: str = "center",
        pca_sigma: float = 0.1,
        train_per_class: int = 300,
        val_per_class: int = 50,
        test_per_class: int = 50,
        val_fraction: float = 0.1,
        batch_size: int = 128,
        num_workers: int = 2,
        pin_memory: bool | str = "auto",
        persistent_workers: bool = True,
        prefetch_factor: int | None = 2,
        seed: int = 0,
        bad_files: str = "skip",
        render_on: str = "loader",
        decode: str = "loader",
        max_image_pixels: int = PILLOW_MAX_PIXELS,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        variant: str | None = None,
        download: bool = True,
        cache: bool = True,
        cache_limit_mib: int = 2048,
        difficulty: str = "easy",
        loader_timeout_s: float = 300.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        check_choice("data.source", source, SOURCES)
        check_int("data.batch_size", batch_size, minimum=1)
        self.named = source in NAMED
        if image_size is None and not self.named:
            raise InvalidValue(
                "data.image_size",
                None,
                "set the crop size in pixels (null picks a named dataset's native size)",
            )
        if image_size is not None:
            check_int("data.image_size", image_size, minimum=8)
        check_int("data.num_workers", num_workers, minimum=0)
        for split, count in (
            ("train", train_per_class),
            ("val", val_per_class),
            ("test", test_per_class),
        ):
            check_int(f"data.{split}_per_class", count, minimum=1)
        if pin_memory != "auto" and not isinstance(pin_memory, bool):
            raise InvalidValue("data.pin_memory", pin_memory, "choose one of: auto, true, false")
        check_choice("data.bad_files", bad_files, BAD_FILE_POLICIES)
        check_int("data.max_image_pixels", max_image_pixels, minimum=1)
        if not isinstance(cache, bool):
            raise InvalidValue("data.cache", cache, "it must be true or false")
        check_int("data.cache_limit_mib", cache_limit_mib, minimum=0)
        self.cache, self.cache_limit_mib = cache, cache_limit_mib
        self.max_image_pixels = max_image_pixels
        check_choice("data.difficulty", difficulty, DIFFICULTIES)
        if difficulty != "easy" and source != "synthetic":
            raise InvalidValue(
                "data.difficulty",
                difficulty,
                "a task of the synthetic data: use data=synthetic (or data=synthetic_hard)",
            )
        self.difficulty = difficulty
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
        self.bad_files, self.render_on, self.decode = bad_files, render_on, decode
        if source == "imagefolder" and not root:
            raise InvalidValue(
                "data.root",
                root,
                "set it to an ImageFolder root, e.g. "
                "data.root=/data/imagenet (with train/ and val/ inside)",
            )
        if self.named and not root:
            root = str(Path("data") / source)
        self.source, self.root = source, root
        if variant is not None:
            variants = named_dataset(source).variants if self.named else ()
            if not variants:
                raise InvalidValue(
                    "data.variant",
                    variant,
                    f"data={source} has no variants "
                    "(only imagenette: full, 320px, 160px); leave it null",
                )
            check_choice("data.variant", variant, variants)
        self.variant, self.download = variant, download
        self.data_source = _source(
            source,
            root,
            variant,
            download,
            difficulty,
            train_per_class,
            val_per_class,
            test_per_class,
            val_fraction,
            seed,
            bad_files,
            max_image_pixels,
            decode,
        )
        self._num_classes = num_classes
        self._stats_given = _stats("data", mean, std)
        self.stats = self._stats_given or self.data_source.default_stats()
        # Checkpoints keep the statistics the run normalized with, default or not.
        self.hparams.mean, self.hparams.std = list(self.stats[0]), list(self.stats[1])
        self.image_size = image_size or self.data_source.native_size() or 0
        self._resize_given = resize_size
        self.resize_size = resize_size or resize_for(self.image_size)
        self.augment, self.eval_crop, self.pca_sigma = augment, eval_crop, pca_sigma
        self.per_class = {"train": train_per_class, "val": val_per_class, "test": test_per_class}
        self.val_fraction, self.seed = val_fraction, seed
        self.batch_size, self.num_workers = batch_size, num_workers
        self.pin_memory, self.persistent_workers = pin_memory, persistent_workers
        self.prefetch_factor = prefetch_factor
        check_number("data.loader_timeout_s", loader_timeout_s, 0, None, low_open=True)
        self.loader_timeout_s = float(loader_timeout_s)
        self.classes: list[str] = []
        self.datasets: dict[str, Dataset] = {}
        self.colour_basis: ColourBasis | None = None  # set up with augment=paper
        self._batch_transforms: dict[tuple, BatchTransform] = {}  # decode=device's
        # Build the pipelines now, so that a bad option fails before any run dir is written.
        self._transforms = (self._train_transform(), self._eval_transform())

    @property
    def data_version(self) -> str | None:
        """The synthetic task's frozen version (e.g. ``hard-v1``); None for other data."""
        return self.data_source.version

    @property
    def num_classes(self) -> int:
        """The number of classes, read from the data for an ImageFolder (checked if configured)."""
        return self.data_source.num_classes(self._num_classes)

    def fit_to_model(self, min_input_size: int) -> None:
        """With ``image_size=None``: the native size, or the smallest power of two >= the
        model's minimum input when the native images are smaller (logged)."""
        if self.hparams.image_size is not None or self.image_size >= min_input_size:
            return
        size = 1 << (min_input_size - 1).bit_length()
        log.info(
            "data.image_size=null: %s's %d-pixel images are upsampled to %d, the smallest "
            "power of two this model accepts (it needs %d)",
            self.source,
            self.image_size,
            size,
            min_input_size,
        )
        self._set_size(size)

    def _set_size(self, size: int) -> None:
        self.image_size = size
        self.resize_size = self._resize_given or resize_for(size)
        self.hparams.image_size = size  # checkpoints keep the size the run used
        self._transforms = (self._train_transform(), self._eval_transform())

    def follow_weights(self, stats: Stats | None, origin: str) -> None:
        """Normalize as the loaded weights were trained, unless data.mean/std were given."""
        if (
            stats is None
            or self._stats_given is not None
            or tuple(map(tuple, stats)) == tuple(map(tuple, self.stats))
        ):
            return
        log.info(
            "Normalizing with the mean and std of the weights (%s): %s, %s",
            origin,
            list(stats[0]),
            list(stats[1]),
        )
        self.stats = (tuple(stats[0]), tuple(stats[1]))
        self.hparams.mean, self.hparams.std = list(stats[0]), list(stats[1])
        self._transforms = (self._train_transform(), self._eval_transform())

    def prepare_data(self) -> None:
        """Download a named dataset on first use (Lightning calls this on one process)."""
        self.data_source.prepare()

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        train_tf, eval_tf = self._transforms
        num_classes = self.num_classes  # checked against the data before anything is read
        if isinstance(self.data_source, SyntheticSource):
            self.classes = [f"class_{i:04d}" for i in range(num_classes)]
            for split, tf in (("train", train_tf), ("val", eval_tf), ("test", eval_tf)):
                size = self.image_size if self._renders_at_crop_size(split) else self.resize_size
                self.datasets[split] = self.data_source.split(
                    num_classes, split, size, tf, self.render_on == "device"
                )
            self._fill_caches()
        else:
            self.datasets, self.classes = self.data_source.splits(train_tf, eval_tf)
            assert len(self.classes) == num_classes
        self._set_colour_basis()

    def _set_colour_basis(self) -> None:
        """The paper's colour noise along the principal components of this training set's
        pixels (as the paper did for ImageNet), kept in `colour_basis` and the run's record."""
        fancy = [
            step
            for step in getattr(self._transforms[0], "transforms", [])
            if isinstance(step, FancyPCA)
        ]
        if not fancy or fancy[0].sigma <= 0 or (self.decode == "device" and not self.named):
            return
        self.colour_basis = training_basis(
            self.unaugmented_train_split(), self.stats, cache_dir=self.data_source.cache_dir()
        )
        fancy[0].set_basis(self.colour_basis.eigval, self.colour_basis.eigvec)
        log.info(
            "data: colour noise along the training set's RGB components, eigenvalues %s "
            "(%d images)",
            [round(v, 5) for v in self.colour_basis.eigval],
            self.colour_basis.images,
        )

    def run_record(self) -> dict[str, Any]:
        """What the run's metrics.json keeps of the data: the synthetic task's version, and the
        colour basis the augmentation used."""
        record: dict[str, Any] = {}
        if self.data_version is not None:
            record["data_version"] = self.data_version
        if self.colour_basis is not None:
            record["colour_basis"] = {
                **asdict(self.colour_basis),
                "shift_rms": self.colour_basis.shift_rms(self.pca_sigma),
            }
        return record

    def unaugmented_train_split(self) -> Dataset:
        """The training images through the validation pipeline (no random crop, flip or colour
        noise; ten-crop evaluation gives ten crops): what training error is measured on. Needs
        `setup` first."""
        if not self.datasets:
            raise RuntimeError("call setup('fit') before unaugmented_train_split()")
        train, eval_tf = self.datasets["train"], self._transforms[1]
        if isinstance(self.data_source, SyntheticSource):
            size = self.image_size if self._renders_at_crop_size("val") else self.resize_size
            return self.data_source.split(
                self.num_classes, "train", size, eval_tf, self.render_on == "device"
            )
        if self.decode == "device" and not self.named:
            raise InvalidValue(
                "data.decode",
                self.decode,
                "the un-augmented training images "
                "are decoded in the loader only: set data.decode=loader",
            )
        unaugmented = copy.copy(train)
        if isinstance(train, SkipBadFiles):  # the ImageFolder inside holds the transform
            unaugmented.images = copy.copy(train.images)
            unaugmented.images.transform = eval_tf
        else:
            unaugmented.transform = eval_tf
        return unaugmented

    def _fill_caches(self) -> None:
        """Render the synthetic splits once and serve them from memory, when they fit
        ``cache_limit_mib`` together (else each image is drawn whenever it is loaded)."""
        if not self.cache or self.render_on == "device":
            return
        total = sum(data.nbytes() for data in self.datasets.values())
        if total > self.cache_limit_mib * 2**20:
            log.info(
                "data.cache: the synthetic images take %.0f MiB, over "
                "data.cache_limit_mib=%d: drawn on the fly",
                total / 2**20,
                self.cache_limit_mib,
            )
            return
        for data in self.datasets.values():
            data.fill_cache(self.num_workers)

    def _renders_at_crop_size(self, split: str) -> bool:
        # Synthetic images need no crop when nothing asks for one: render at the crop size.
        # Validation and test do not depend on the training augmentation: every arm of an
        # ablation is scored on the same images through the same pipeline.
        if split == "train":
            return self.augment == "none"
        return self.eval_crop == "center"

    def _train_transform(self):  # noqa: ANN202 - a torchvision transform
        if self.source == "synthetic" and self._renders_at_crop_size("train"):
            return self._normalizer()
        return train_transform(
            self.augment,
            self.image_size,
            self.resize_size,
            self.pca_sigma,
            from_tensor=self.source == "synthetic",
            stats=self.stats,
        )

    def _eval_transform(self):  # noqa: ANN202 - a torchvision transform
        if self.source == "synthetic" and self._renders_at_crop_size("val"):
            return self._normalizer()
        return eval_transform(
            self.eval_crop,
            self.image_size,
            self.resize_size,
            from_tensor=self.source == "synthetic",
            stats=self.stats,
        )

    def _normalizer(self):  # noqa: ANN202 - a transform of [0, 1] image tensors
        return normalize_imagenet if self._imagenet_stats() else normalizer(self.stats)

    def _imagenet_stats(self) -> bool:
        return tuple(map(tuple, self.stats)) == tuple(map(tuple, IMAGENET_STATS))

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """With ``decode=device``: decode and transform the batch's JPEGs on the device. With
        ``render_on=device``: read the batch's (split, index) pairs here, on the host, so that
        drawing them after the transfer never reads the device."""
        if not _is_pair(batch):  # e.g. the model summary's example input
            return batch
        inputs, labels = batch
        if self.render_on == "device" and isinstance(inputs, torch.Tensor) and inputs.dim() == 2:
            return DrawLater(SPLIT_NAMES[int(inputs[0, 0])], inputs[:, 1].tolist()), labels
        if self.decode != "device" or not isinstance(inputs, (EncodedBatch, list)):
            return batch
        trainer = self.trainer
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        images = decode_batch(inputs, device, self.bad_files)
        return self._batch_transform(trainer is not None and trainer.training)(images), labels

    def decode_samples(self, encoded: list[torch.Tensor], split: str) -> torch.Tensor:
        """Items of `split` read with ``decode=device`` (JPEG bytes), decoded and transformed on
        the CPU as the device does: the fixed samples pictures are drawn from."""
        images = decode_batch(encoded, torch.device("cpu"), self.bad_files)
        return self._batch_transform(split == "train")(images)

    def _batch_transform(self, train: bool) -> BatchTransform:
        """The loader's transform of `train` (or evaluation), batched (``decode=device``)."""
        key = (train, self.image_size, self.resize_size, tuple(map(tuple, self.stats)))
        if key not in self._batch_transforms:
            self._batch_transforms[key] = BatchTransform(
                train,
                self.augment,
                self.eval_crop,
                self.image_size,
                self.resize_size,
                self.pca_sigma,
                self.stats,
            )
        return self._batch_transforms[key]

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """With ``render_on=device``: draw the batch's images where the batch now is."""
        if not _is_pair(batch):
            return batch
        inputs, labels = batch
        if not isinstance(inputs, DrawLater):
            return batch
        return self.datasets[inputs.split].render_batch(inputs.indices, labels.device), labels

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def _device_type(self) -> str | None:
        """Where the batches go: the trainer's device type; None before a trainer is attached."""
        trainer = self.trainer
        return trainer.strategy.root_device.type if trainer is not None else None

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        trainer = self.trainer
        return build_loader(
            self.datasets[split],
            split,
            self.batch_size,
            shuffle,
            self.seed,
            loader_settings(
                self._device_type(),
                self.num_workers,
                self.pin_memory,
                self.persistent_workers,
                self.prefetch_factor,
            ),
            self.loader_timeout_s,
            collate_encoded if self.decode == "device" else None,
            None
            if trainer is None
            else (trainer.world_size, trainer.global_rank, lambda: trainer.current_epoch),
        )


def _stats(key: str, mean: list[float] | None, std: list[float] | None) -> Stats | None:
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
    if min(std) <= 0:
        raise InvalidValue(f"{key}.std", std, "each std must be > 0")
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def _source(
    source: str,
    root: str | None,
    variant: str | None,
    download: bool,
    difficulty: str,
    train_per_class: int,
    val_per_class: int,
    test_per_class: int,
    val_fraction: float,
    seed: int,
    bad_files: str,
    max_pixels: int,
    decode: str,
) -> DataSource:
    """The source object of `source` (checked before: a known name, a root where needed)."""
    if source == "synthetic":
        per_class = {"train": train_per_class, "val": val_per_class, "test": test_per_class}
        return SyntheticSource(difficulty, per_class, seed)
    if source == "imagefolder":
        return FolderSource(
            str(root), val_fraction, seed, bad_files, max_pixels, decode == "device"
        )
    return NamedSource(source, str(root), variant, download, val_fraction, seed)


def _is_pair(batch: Any) -> bool:
    """An (inputs, labels) batch of this datamodule's loaders."""
    return isinstance(batch, (tuple, list)) and len(batch) == 2
