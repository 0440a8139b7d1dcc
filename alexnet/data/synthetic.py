"""Synthetic ImageNet-style images, rendered on the fly: no download, O(1) memory.

Two tasks. The easy one (``difficulty="easy"``, the default): each class is a combination of a
shape, a stripe orientation, a stripe frequency and a pair of complementary stripe colours;
every image draws the object's position, scale, rotation, stripe phase, hue jitter and
background at random, then adds noise. The two stripe colours are complementary and the
background is random, so the mean colour of an image says little about its class: a model has
to see shapes, orientations, textures and local colours. Every class attribute is invariant
under the paper's augmentation: a horizontal flip maps a stripe angle t to pi - t, so an
orientation is the pair +-t and each image draws the sign. The hard one
(``difficulty="hard"``): see alexnet.data.synthetic_hard.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from alexnet.data.synthetic_batch import draw_easy, draw_hard, easy_row, hard_row, upload
from alexnet.data.synthetic_hard import (
    HARD_MAX_CLASSES,
    HARD_VERSION,
    hard_class_specs,
    render_hard,
)
from alexnet.data.synthetic_hard import object_mask as hard_object_mask
from alexnet.data.synthetic_shapes import (
    DRAWS,
    SHAPES,
    ClassSpec,
    coverage,
    hsv,
    stripe_angle,
)
from alexnet.data.transforms import normalize_imagenet
from alexnet.errors import InvalidValue, check_choice, check_int

ORIENTATIONS = 5  # stripe angles +-t, t = 0, 22.5, 45, 67.5, 90 degrees (mirror-image pairs)
FREQUENCIES = (1.5, 2.5, 3.5, 5.0, 7.0)  # stripe cycles across the object
HUES = 6  # colour pairs (h, h + 180 degrees), h 30 degrees apart
SPLITS = {"train": 0, "val": 1, "test": 2}
DIFFICULTIES = ("easy", "hard")
EASY_VERSION = "easy-v2"  # v2: flip-invariant orientations
VERSIONS = {"easy": EASY_VERSION, "hard": HARD_VERSION}
MAX_CLASSES = {
    "easy": len(SHAPES) * ORIENTATIONS * len(FREQUENCIES) * HUES,
    "hard": HARD_MAX_CLASSES,
}


def class_specs(num_classes: int, seed: int, difficulty: str = "easy") -> list[ClassSpec]:
    """The `num_classes` class definitions of `seed`: distinct attribute combinations."""
    if difficulty == "hard":
        return hard_class_specs(num_classes, seed)
    rng = np.random.default_rng([seed, 7919])
    combos = rng.permutation(MAX_CLASSES["easy"])[:num_classes]
    specs = []
    for combo in combos.tolist():
        shape, rest = combo % len(SHAPES), combo // len(SHAPES)
        angle, rest = rest % ORIENTATIONS, rest // ORIENTATIONS
        frequency, hue = rest % len(FREQUENCIES), rest // len(FREQUENCIES)
        specs.append(
            ClassSpec(
                shape,
                angle * math.pi / (2 * (ORIENTATIONS - 1)),
                FREQUENCIES[frequency],
                hue / (2 * HUES),
            )
        )
    return specs


class SyntheticImageNet(Dataset):
    """`num_classes` x `samples_per_class` images of `image_size`, rendered per index.

    Image `i` has label ``i % num_classes`` and is a pure function of (seed, split, i).
    Items are ``(image, label)``: the image is rendered in [0, 1] as a (3, size, size) tensor,
    then passed through `transform` (default: ImageNet mean/std normalization). With `deferred`,
    items are ``((split, index), label)`` and `render_batch` renders them later, on any device
    (the loader then moves a few integers, and a GPU draws the images).
    """

    def __init__(
        self,
        num_classes: int,
        samples_per_class: int,
        image_size: int = 224,
        seed: int = 0,
        split: str = "train",
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        deferred: bool = False,
        difficulty: str = "easy",
        field: float = 1.0,
    ) -> None:
        check_choice("difficulty", difficulty, DIFFICULTIES)
        check_int("num_classes", num_classes, minimum=1)
        if num_classes > MAX_CLASSES[difficulty]:
            raise InvalidValue(
                "num_classes",
                num_classes,
                f"the {difficulty} synthetic data has at most {MAX_CLASSES[difficulty]} classes",
            )
        check_int("samples_per_class", samples_per_class, minimum=1)
        check_int("image_size", image_size, minimum=8)
        check_choice("split", split, SPLITS)
        self.num_classes, self.samples_per_class = num_classes, samples_per_class
        self.image_size, self.seed, self.split = image_size, seed, split
        self.transform = transform or normalize_imagenet
        self.classes = [f"class_{i:04d}" for i in range(num_classes)]
        self.difficulty, self.version = difficulty, VERSIONS[difficulty]
        self.specs = class_specs(num_classes, seed, difficulty)
        self.deferred = deferred
        # The scene's half-width in its own units: 1 frames the scene; above 1 shows more around
        # it at the same object size per pixel (a larger render meant for crops).
        self.field = float(field)
        self._grid: torch.Tensor | None = None
        self._device_grids: dict[torch.device, torch.Tensor] = {}
        self._images: torch.Tensor | None = None  # all images, once `fill_cache` has run

    def nbytes(self) -> int:
        """The memory the rendered images take, cached (float32)."""
        return len(self) * 3 * self.image_size * self.image_size * 4

    def fill_cache(self, num_workers: int = 0) -> None:
        """Render every image once, with `num_workers` loader processes, and serve them from
        memory from now on (the same images: each is a pure function of its index)."""
        if self._images is not None or self.deferred:
            return
        raw = copy.copy(self)
        raw.transform = _identity
        loader = DataLoader(raw, batch_size=64, num_workers=num_workers)
        self._images = torch.cat([images for images, _ in loader])

    def __len__(self) -> int:
        return self.num_classes * self.samples_per_class

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} images")
        label = index % self.num_classes
        if self.deferred:
            return torch.tensor([SPLITS[self.split], index]), label
        if self._images is not None:
            return self.transform(self._images[index]), label
        image = self._render(index, self._coordinates())
        return self.transform(image), label

    def object_mask(self, index: int) -> torch.Tensor:
        """Where image `index`'s object is: a boolean (size, size) mask, at the size the image is
        rendered (before any crop), from the same draws as the image."""
        rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
        spec, grid = self.specs[index % self.num_classes], self._coordinates()
        if self.difficulty == "hard":
            return hard_object_mask(spec, rng, grid) > 0.5
        return soft_mask(spec, rng.random(DRAWS).tolist(), grid) > 0.5

    def render_batch(
        self, indices: torch.Tensor | list[int], device: torch.device, random_fields: bool = True
    ) -> torch.Tensor:
        """The normalized images (B, 3, size, size) of `indices`, drawn on `device` a batch at a
        time (alexnet.data.synthetic_batch): on the CPU the images of ``self[i]``; on a GPU the
        same but for their random fields (noise, the hard task's background), which
        ``random_fields=False`` leaves out (zeros) to compare devices."""
        row_of = hard_row if self.difficulty == "hard" else easy_row
        rows, shapes, seeds = [], set(), []
        indices = indices.tolist() if isinstance(indices, torch.Tensor) else indices
        for index in indices:
            rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
            row, used, seed = row_of(self.specs[index % self.num_classes], rng)
            rows.append(row)
            shapes |= used if isinstance(used, set) else {used}
            seeds.append(seed)
        draw = draw_hard if self.difficulty == "hard" else draw_easy
        images = draw(upload(rows, device), self._grid_on(device), shapes, seeds, random_fields)
        return normalize_imagenet(images)

    def _grid_on(self, device: torch.device) -> torch.Tensor:
        if device not in self._device_grids:  # uploaded once per device, not per batch
            self._device_grids[device] = self._coordinates().to(device)
        return self._device_grids[device]

    def _render(self, index: int, grid: torch.Tensor) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
        draw = render_hard if self.difficulty == "hard" else render
        return draw(self.specs[index % self.num_classes], rng, grid)

    def __getstate__(self) -> dict:
        # The coordinate grids are caches: rebuilt on first use, never pickled to workers.
        return {**self.__dict__, "_grid": None, "_device_grids": {}}

    def _coordinates(self) -> torch.Tensor:
        if self._grid is None:
            axis = torch.linspace(-self.field, self.field, self.image_size)
            self._grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"))
        return self._grid


def _identity(image: torch.Tensor) -> torch.Tensor:
    return image


def create_synthetic_dataset(
    num_classes: int = 10,
    samples_per_class: int = 100,
    image_size: int = 224,
    seed: int = 0,
    test_samples_per_class: int | None = None,
    difficulty: str = "easy",
) -> tuple[SyntheticImageNet, SyntheticImageNet]:
    """(train, test) synthetic datasets over the same classes; test has its own images.

    The test set has `test_samples_per_class` images per class (default: a fifth of
    `samples_per_class`, at least 1). `difficulty`: ``easy`` or ``hard`` (see the module).
    """
    test_count = test_samples_per_class or max(1, samples_per_class // 5)
    train = SyntheticImageNet(
        num_classes, samples_per_class, image_size, seed, "train", difficulty=difficulty
    )
    test = SyntheticImageNet(
        num_classes, test_count, image_size, seed, "test", difficulty=difficulty
    )
    return train, test


def render(spec: ClassSpec, rng: np.random.Generator, grid: torch.Tensor) -> torch.Tensor:
    """One [0, 1] easy image (3, H, W) of class `spec`, its nuisances drawn from `rng`."""
    draws = rng.random(DRAWS).tolist()
    (
        _,
        _,
        scale,
        _,
        phase,
        _,
        hue_jitter,
        bg_hue,
        bg_sat,
        bg_val,
        grad_angle,
        grad_amp,
        noise,
        _,
        _,
    ) = draws
    x, y = grid[0], grid[1]
    mask = soft_mask(spec, draws, grid)
    scale = 0.3 + 0.35 * scale

    angle = stripe_angle(spec, draws)
    along = (x * math.cos(angle) + y * math.sin(angle)) / scale
    stripes = torch.sigmoid(6 * torch.sin(math.pi * spec.frequency * along + 2 * math.pi * phase))
    hue = spec.hue + (hue_jitter - 0.5) / 18
    device = grid.device
    colour_a, colour_b = hsv(hue, 0.85, 0.9, device), hsv(hue + 0.5, 0.85, 0.9, device)
    stripes = stripes.unsqueeze(0)
    foreground = colour_a * stripes + colour_b * (1 - stripes)

    background = hsv(bg_hue, 0.6 * bg_sat, 0.25 + 0.6 * bg_val, device)
    gradient = x * math.cos(2 * math.pi * grad_angle) + y * math.sin(2 * math.pi * grad_angle)
    background = background * (1 + 0.4 * grad_amp * gradient).unsqueeze(0)

    mask = mask.unsqueeze(0)
    image = foreground * mask + background * (1 - mask)
    generator = torch.Generator(device).manual_seed(int(rng.integers(2**62)))
    image = image + (0.02 + 0.08 * noise) * torch.randn(
        image.shape, generator=generator, device=device
    )
    return image.clamp_(0.0, 1.0)


def soft_mask(spec: ClassSpec, draws: list[float], grid: torch.Tensor) -> torch.Tensor:
    """The easy object's coverage (H, W) in [0, 1], from the image's draws (see `render`)."""
    cx, cy, scale, rotation, sharp = draws[0], draws[1], draws[2], draws[3], draws[13]
    scale = 0.3 + 0.35 * scale
    cx, cy = (cx * 2 - 1) * (0.95 - scale), (cy * 2 - 1) * (0.95 - scale)
    return coverage(
        SHAPES[spec.shape],
        cx,
        cy,
        scale,
        (rotation - 0.5) * math.radians(30),
        0.25 + 0.25 * sharp,
        grid,
    )
