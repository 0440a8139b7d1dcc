"""AlexNetDataModule: synthetic or ImageFolder images, with the paper's augmentation."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import lightning as L
from torch.utils.data import Dataset

from alexnet.data.batch_transforms import BatchTransform
from alexnet.data.colour_pca import ColourBasis
from alexnet.data.device_batches import DeviceBatches
from alexnet.data.imagefolder import PILLOW_MAX_PIXELS
from alexnet.data.loaders import SplitLoaders
from alexnet.data.named import NAMED
from alexnet.data.pipelines import (
    fill_caches,
    fit_colour_noise,
    normalizer_of,
    renders_at_crop_size,
    split_transforms,
    through_eval_pipeline,
)
from alexnet.data.settings_check import SOURCES, check_settings, given_stats, make_source
from alexnet.data.sources import SyntheticSource
from alexnet.data.transforms import Stats, eval_transform, resize_for
from alexnet.errors import InvalidValue

__all__ = ["SOURCES", "AlexNetDataModule"]

log = logging.getLogger(__name__)


class AlexNetDataModule(SplitLoaders, DeviceBatches, L.LightningDataModule):
    """Train/val/test loaders over synthetic images (no download), an ImageFolder root or a
    named dataset (``cifar10``, ``cifar100``, ``mnist``, ``fashion_mnist``, ``stl10``,
    ``imagenette``) read by torchvision's own class. Its defaults are the default run's (their
    one owner: the data schema reads them).

    Args:
        source: ``synthetic``, ``imagefolder`` or a named dataset.
        root: the ImageFolder root (``train/`` and ``val/``, or class folders to split), or the
            named dataset's root (its torchvision class's ``root``; downloaded there on first
            use unless ``download`` is false).
        num_classes: classes of the synthetic data (None: 10); for an ImageFolder or a named
            dataset, the count the data must have (None: whatever it has).
        image_size: the crop the model sees (224: ImageNet's), after a resize of the shorter
            side to ``resize_size`` (default 256/224 of it). None (named datasets only): the
            native size, upsampled to the smallest power of two the model accepts
            (``resize_size`` equal to it keeps the images whole).
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
        image_size: int | None = 112,
        resize_size: int | None = None,
        augment: str = "none",
        eval_crop: str = "center",
        pca_sigma: float = 0.1,
        pca_relative: bool = False,
        train_per_class: int = 250,
        val_per_class: int = 30,
        test_per_class: int = 30,
        val_fraction: float = 0.1,
        batch_size: int = 64,
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
        per_class = {"train": train_per_class, "val": val_per_class, "test": test_per_class}
        root = check_settings(self.hparams)
        self.named = source in NAMED
        self.source, self.root, self.variant, self.download = source, root, variant, download
        self.cache, self.cache_limit_mib = cache, cache_limit_mib
        self.max_image_pixels, self.difficulty = max_image_pixels, difficulty
        self.bad_files, self.render_on, self.decode = bad_files, render_on, decode
        self.data_source = make_source(self.hparams, root)
        self._num_classes, self._stats_given = num_classes, given_stats("data", mean, std)
        self.stats = self._stats_given or self.data_source.default_stats()
        # Checkpoints keep the statistics the run normalized with, default or not.
        self.hparams.mean, self.hparams.std = list(self.stats[0]), list(self.stats[1])
        self.image_size, self._resize_given = (
            image_size or self.data_source.native_size() or 0,
            resize_size,
        )
        self.resize_size = resize_size or resize_for(self.image_size)
        self.augment, self.eval_crop, self.pca_sigma = augment, eval_crop, pca_sigma
        self.pca_relative = pca_relative
        self.per_class, self.val_fraction, self.seed = per_class, val_fraction, seed
        self.batch_size, self.num_workers = batch_size, num_workers
        self.pin_memory, self.persistent_workers = pin_memory, persistent_workers
        self.prefetch_factor, self.loader_timeout_s = prefetch_factor, float(loader_timeout_s)
        self.classes: list[str] = []
        self.datasets: dict[str, Dataset] = {}
        self.colour_basis: ColourBasis | None = None  # set up with augment=paper
        self._batch_transforms: dict[tuple, BatchTransform] = {}  # decode=device's
        # Build the pipelines now, so that a bad option fails before any run dir is written.
        self._transforms = self._split_transforms()

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
        self._transforms = self._split_transforms()

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
        self._transforms = self._split_transforms()

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
                size = (
                    self.image_size
                    if renders_at_crop_size(split, self.augment, self.eval_crop)
                    else self.resize_size
                )
                self.datasets[split] = self.data_source.split(
                    num_classes, split, size, tf, self.render_on == "device", self.image_size
                )
            if self.cache and self.render_on != "device":
                fill_caches(self.datasets, self.cache_limit_mib, self.num_workers)
        else:
            self.datasets, self.classes = self.data_source.splits(train_tf, eval_tf)
            assert len(self.classes) == num_classes
        if not (self.decode == "device" and not self.named):
            self.colour_basis = fit_colour_noise(
                train_tf,
                self.unaugmented_train_split,
                self.stats,
                self.data_source.cache_dir(),
                self.pca_relative,
            )

    def run_record(self) -> dict[str, Any]:
        """What the run's metrics.json keeps of the data: the synthetic task's version, and the
        colour basis the augmentation used."""
        record: dict[str, Any] = {}
        if self.data_version is not None:
            record["data_version"] = self.data_version
        task = getattr(self.data_source, "task", None)
        if task is not None:  # the calibrated task (hard-v2: the hard drawing at its sizes)
            record["task"] = task
        if self.colour_basis is not None:
            basis = self.colour_basis
            factor = basis.relative_factor() if self.pca_relative else 1.0
            record["colour_basis"] = {
                **asdict(basis),
                "relative": self.pca_relative,
                "shift_rms": basis.shift_rms(self.pca_sigma, factor),
                "shift_per_spread": basis.shift_rms(self.pca_sigma, factor) / basis.spread(),
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
            # The images it trains on, un-augmented: drawn as training draws them (a wider scene
            # for crops), then the centre crop.
            at_crop = renders_at_crop_size("train", self.augment, self.eval_crop)
            size = self.image_size if at_crop else self.resize_size
            centre = (
                normalizer_of(self.stats)
                if at_crop
                else eval_transform(
                    "center", self.image_size, self.resize_size, from_tensor=True, stats=self.stats
                )
            )
            return self.data_source.split(
                self.num_classes,
                "train",
                size,
                centre,
                self.render_on == "device",
                self.image_size,
            )
        if self.decode == "device" and not self.named:
            raise InvalidValue(
                "data.decode",
                self.decode,
                "the un-augmented training images "
                "are decoded in the loader only: set data.decode=loader",
            )
        return through_eval_pipeline(train, eval_tf)

    def _split_transforms(self) -> tuple[Any, Any]:
        return split_transforms(
            self.source,
            self.augment,
            self.eval_crop,
            self.image_size,
            self.resize_size,
            self.pca_sigma,
            self.stats,
        )
