"""Synthetic ImageNet-style images, rendered on the fly: no download, O(1) memory.

Each class is a combination of a shape, a stripe orientation, a stripe frequency and a pair of
complementary stripe colours. Every image draws the object's position, scale, rotation, stripe
phase, hue jitter and background at random, then adds noise. The two stripe colours of an object
are complementary and the background is random, so the mean colour of an image says little
about its class: a model has to see shapes, orientations, textures and local colours.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from alexnet.data.transforms import normalize_imagenet
from alexnet.errors import InvalidValue, check_choice, check_int

SHAPES = ("disk", "square", "triangle", "hexagon", "cross", "ring", "star", "bar")
ORIENTATIONS = 8  # stripe angles, 22.5 degrees apart
FREQUENCIES = (1.5, 2.5, 3.5, 5.0)  # stripe cycles across the object
HUES = 6  # colour pairs (h, h + 180 degrees), h 30 degrees apart
SPLITS = {"train": 0, "val": 1, "test": 2}
MAX_CLASSES = len(SHAPES) * ORIENTATIONS * len(FREQUENCIES) * HUES


@dataclass(frozen=True)
class ClassSpec:
    """What makes a class: shape, stripe angle (radians), stripe frequency and hue (0..1)."""

    shape: int
    angle: float
    frequency: float
    hue: float


def class_specs(num_classes: int, seed: int) -> list[ClassSpec]:
    """The `num_classes` class definitions of `seed`: distinct attribute combinations."""
    rng = np.random.default_rng([seed, 7919])
    combos = rng.permutation(MAX_CLASSES)[:num_classes]
    specs = []
    for combo in combos.tolist():
        shape, rest = combo % len(SHAPES), combo // len(SHAPES)
        angle, rest = rest % ORIENTATIONS, rest // ORIENTATIONS
        frequency, hue = rest % len(FREQUENCIES), rest // len(FREQUENCIES)
        specs.append(ClassSpec(shape, angle * math.pi / ORIENTATIONS, FREQUENCIES[frequency],
                               hue / (2 * HUES)))
    return specs


class SyntheticImageNet(Dataset):
    """`num_classes` x `samples_per_class` images of `image_size`, rendered per index.

    Image `i` has label ``i % num_classes`` and is a pure function of (seed, split, i).
    Items are ``(image, label)``: the image is rendered in [0, 1] as a (3, size, size) tensor,
    then passed through `transform` (default: ImageNet mean/std normalization). With `deferred`,
    items are ``((split, index), label)`` and `render_batch` renders them later, on any device
    (the loader then moves a few integers, and a GPU draws the images).
    """

    def __init__(self, num_classes: int, samples_per_class: int, image_size: int = 224,
                 seed: int = 0, split: str = "train",
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 deferred: bool = False) -> None:
        check_int("num_classes", num_classes, minimum=1)
        if num_classes > MAX_CLASSES:
            raise InvalidValue("num_classes", num_classes, f"the synthetic data has at most "
                               f"{MAX_CLASSES} classes")
        check_int("samples_per_class", samples_per_class, minimum=1)
        check_int("image_size", image_size, minimum=8)
        check_choice("split", split, SPLITS)
        self.num_classes, self.samples_per_class = num_classes, samples_per_class
        self.image_size, self.seed, self.split = image_size, seed, split
        self.transform = transform or normalize_imagenet
        self.classes = [f"class_{i:04d}" for i in range(num_classes)]
        self.specs = class_specs(num_classes, seed)
        self.deferred = deferred
        self._grid: torch.Tensor | None = None
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
        rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
        image = render(self.specs[label], rng, self._coordinates())
        return self.transform(image), label

    def object_mask(self, index: int) -> torch.Tensor:
        """Where image `index`'s object is: a boolean (size, size) mask, at the size the image is
        rendered (before any crop), from the same draws as the image."""
        rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
        draws = rng.random(14).tolist()
        return soft_mask(self.specs[index % self.num_classes], draws, self._coordinates()) > 0.5

    def render_batch(self, indices: torch.Tensor, device: torch.device) -> torch.Tensor:
        """The normalized images (B, 3, size, size) of `indices`, rendered on `device`: on the
        CPU exactly the images of ``self[i]``; on a GPU the same but for their noise draws."""
        grid = self._coordinates().to(device)
        images = []
        for index in indices.tolist():
            rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
            images.append(render(self.specs[index % self.num_classes], rng, grid))
        return normalize_imagenet(torch.stack(images))

    def __getstate__(self) -> dict:
        # The coordinate grid is a cache: rebuilt on first use, never pickled to workers.
        return {**self.__dict__, "_grid": None}

    def _coordinates(self) -> torch.Tensor:
        if self._grid is None:
            axis = torch.linspace(-1.0, 1.0, self.image_size)
            self._grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"))
        return self._grid


def _identity(image: torch.Tensor) -> torch.Tensor:
    return image


def create_synthetic_dataset(num_classes: int = 10, samples_per_class: int = 100,
                             image_size: int = 224, seed: int = 0,
                             test_samples_per_class: int | None = None,
                             ) -> tuple[SyntheticImageNet, SyntheticImageNet]:
    """(train, test) synthetic datasets over the same classes; test has its own images.

    The test set has `test_samples_per_class` images per class (default: a fifth of
    `samples_per_class`, at least 1).
    """
    test_count = test_samples_per_class or max(1, samples_per_class // 5)
    train = SyntheticImageNet(num_classes, samples_per_class, image_size, seed, "train")
    test = SyntheticImageNet(num_classes, test_count, image_size, seed, "test")
    return train, test


def render(spec: ClassSpec, rng: np.random.Generator, grid: torch.Tensor) -> torch.Tensor:
    """One [0, 1] image (3, H, W) of class `spec`, its nuisances drawn from `rng`."""
    draws = rng.random(14).tolist()
    (_, _, scale, _, phase, angle_jitter, hue_jitter, bg_hue, bg_sat, bg_val, grad_angle,
     grad_amp, noise, _) = draws
    x, y = grid[0], grid[1]
    mask = soft_mask(spec, draws, grid)
    scale = 0.3 + 0.35 * scale

    angle = spec.angle + (angle_jitter - 0.5) * math.radians(8)
    along = (x * math.cos(angle) + y * math.sin(angle)) / scale
    stripes = torch.sigmoid(6 * torch.sin(math.pi * spec.frequency * along + 2 * math.pi * phase))
    hue = spec.hue + (hue_jitter - 0.5) / 18
    device = grid.device
    colour_a, colour_b = _hsv(hue, 0.85, 0.9, device), _hsv(hue + 0.5, 0.85, 0.9, device)
    stripes = stripes.unsqueeze(0)
    foreground = colour_a * stripes + colour_b * (1 - stripes)

    background = _hsv(bg_hue, 0.6 * bg_sat, 0.25 + 0.6 * bg_val, device)
    gradient = x * math.cos(2 * math.pi * grad_angle) + y * math.sin(2 * math.pi * grad_angle)
    background = background * (1 + 0.4 * grad_amp * gradient).unsqueeze(0)

    mask = mask.unsqueeze(0)
    image = foreground * mask + background * (1 - mask)
    generator = torch.Generator(device).manual_seed(int(rng.integers(2**62)))
    image = image + (0.02 + 0.08 * noise) * torch.randn(image.shape, generator=generator,
                                                        device=device)
    return image.clamp_(0.0, 1.0)


def soft_mask(spec: ClassSpec, draws: list[float], grid: torch.Tensor) -> torch.Tensor:
    """The object's coverage (H, W) in [0, 1], from the image's 14 draws (see `render`)."""
    cx, cy, scale, rotation, sharp = draws[0], draws[1], draws[2], draws[3], draws[13]
    x, y = grid[0], grid[1]
    scale = 0.3 + 0.35 * scale
    cx, cy = (cx * 2 - 1) * (0.95 - scale), (cy * 2 - 1) * (0.95 - scale)
    rotation = (rotation - 0.5) * math.radians(30)
    cos_r, sin_r = math.cos(rotation), math.sin(rotation)
    u = ((x - cx) * cos_r + (y - cy) * sin_r) / scale
    v = (-(x - cx) * sin_r + (y - cy) * cos_r) / scale
    edge = grid.shape[-1] * scale * (0.25 + 0.25 * sharp)
    return torch.sigmoid(-_signed_distance(SHAPES[spec.shape], u, v) * edge)


def _signed_distance(shape: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Negative inside the unit-sized `shape`, positive outside (object coordinates)."""
    if shape == "disk":
        return torch.sqrt(u * u + v * v) - 0.9
    if shape == "square":
        return torch.maximum(u.abs(), v.abs()) - 0.75
    if shape == "triangle":
        return _polygon(u, v, sides=3, radius=0.5)
    if shape == "hexagon":
        return _polygon(u, v, sides=6, radius=0.8)
    if shape == "cross":
        arm_h = torch.maximum(u.abs() - 0.9, v.abs() - 0.3)
        arm_v = torch.maximum(u.abs() - 0.3, v.abs() - 0.9)
        return torch.minimum(arm_h, arm_v)
    if shape == "ring":
        return (torch.sqrt(u * u + v * v) - 0.7).abs() - 0.22
    if shape == "star":
        radius = torch.sqrt(u * u + v * v)
        return radius - (0.6 + 0.3 * torch.cos(5 * torch.atan2(v, u)))
    if shape == "bar":
        return torch.maximum(u.abs() - 0.95, v.abs() - 0.3)
    raise InvalidValue("shape", shape, f"choose one of: {', '.join(SHAPES)}")


def _polygon(u: torch.Tensor, v: torch.Tensor, sides: int, radius: float) -> torch.Tensor:
    distance = None
    for k in range(sides):
        a = math.pi / 2 + 2 * math.pi * k / sides
        side = u * math.cos(a) + v * math.sin(a) - radius
        distance = side if distance is None else torch.maximum(distance, side)
    return distance


def _hsv(hue: float, saturation: float, value: float, device: torch.device | None = None
         ) -> torch.Tensor:
    """An RGB colour (3, 1, 1) from HSV in [0, 1] (hue wraps around)."""
    hue = hue % 1.0
    rgb = [value * (1 - saturation * max(0.0, min(1.0, 2 - abs((hue * 6 - k) % 6 - 3))))
           for k in (0, 4, 2)]
    return torch.tensor(rgb, device=device).view(3, 1, 1)
