"""The hard synthetic task (``data.difficulty=hard``): room for AlexNet's design choices to show.

Still procedural and download-free, but closer to what a network meets in natural images:
- the background is coloured 1/f noise (natural images' amplitude spectrum), with up to 2 flat
  distractor objects of any shape (some in front of the object) and, in 3 images of 10, an
  occluding bar across the object;
- the object's size (0.4 to 0.7 in the image's half-width units), position and rotation (a
  full turn) vary widely; it is striped in its hue, light and dark, at a frequency and angle
  of their own; the scene is lit by a random colour cast and brightness;
- classes sit on a factorial grid of attributes (shape x hue x stripe frequency x stripe
  orientation, in that order), so a class's neighbours differ from it in one attribute; the
  nuisance range of each attribute overlaps its neighbour's (hue: levels 45 degrees apart,
  jitter +-27 degrees), so some error is irreducible;
- every class attribute is invariant under the paper's augmentation: a horizontal flip maps a
  stripe angle t to pi - t, so an orientation level is the pair +-t (each image draws the sign),
  and every shape turns a full circle; crops keep shape, hue, frequency and orientation.
With 10 classes (the default), a class is a shape and a hue; frequency and orientation are then
nuisances drawn over their whole range. Its drawing was settled on the reference model only
(experiments/results/calibrate_hard/calibration.md lists the drafts and their runs), then frozen as
HARD_VERSION: results record it, and any change to what this module draws needs a new name.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from alexnet.data.synthetic_shapes import SHAPES, ClassSpec, coverage, hsv

HARD_VERSION = "hard-v1"
HARD_SHAPES = ("disk", "square", "triangle", "cross", "star")
GRID = (5, 2, 2, 3)  # levels of shape, hue, frequency and orientation: the classes' radices
HARD_MAX_CLASSES = math.prod(GRID)
HUE_STEP, HUE_JITTER = 45 / 360, 27 / 360  # neighbouring hues overlap by 9 degrees
FREQUENCIES, FREQUENCY_JITTER = (2.0, 3.5), 0.9  # cycles across the object; overlapping too
ORIENTATIONS, ORIENTATION_JITTER = (0.0, math.pi / 4, math.pi / 2), math.radians(12)
MAIN_DRAWS = 12  # the object's own draws, first from each image's generator (see `object_mask`)


def hard_class_specs(num_classes: int, seed: int) -> list[ClassSpec]:
    """The first `num_classes` points of the attribute grid (shape varies fastest); the data
    seed picks the order of the shapes and the base hue. None marks a nuisance attribute."""
    rng = np.random.default_rng([seed, 104729])
    shapes = [SHAPES.index(HARD_SHAPES[i]) for i in rng.permutation(len(HARD_SHAPES))]
    base_hue = float(rng.random())
    specs = []
    for index in range(num_classes):
        shape, rest = index % GRID[0], index // GRID[0]
        hue, rest = rest % GRID[1], rest // GRID[1]
        frequency, orientation = rest % GRID[2], rest // GRID[2]
        specs.append(
            ClassSpec(
                shapes[shape],
                ORIENTATIONS[orientation] if num_classes > 20 else None,
                FREQUENCIES[frequency] if num_classes > 10 else None,
                base_hue + hue * HUE_STEP,
            )
        )
    return specs


def object_params(spec: ClassSpec, draws: list[float]) -> dict[str, float]:
    """The object's geometry, stripes and colour from its MAIN_DRAWS uniform draws."""
    cx, cy, scale, rotation, sharp, phase, angle, sign, frequency, hue, sat, val = draws
    if spec.angle is None:
        stripe = angle * math.pi
    else:  # the level +-t, jittered: invariant under t -> pi - t
        stripe = (1 if sign < 0.5 else -1) * spec.angle + (2 * angle - 1) * ORIENTATION_JITTER
    if spec.frequency is None:
        cycles = 1.5 + 1.5 * frequency
    else:
        cycles = spec.frequency + (2 * frequency - 1) * FREQUENCY_JITTER
    return {
        "cx": 1.0 * cx - 0.5,
        "cy": 1.0 * cy - 0.5,
        "scale": 0.4 + 0.3 * scale,
        "rotation": 2 * math.pi * rotation,
        "sharp": 0.4 + 0.4 * sharp,
        "phase": phase,
        "stripe": stripe,
        "cycles": cycles,
        "hue": spec.hue + (2 * hue - 1) * HUE_JITTER,
        "sat": 0.6 + 0.35 * sat,
        "val": 0.6 + 0.35 * val,
    }


def object_mask(spec: ClassSpec, rng: np.random.Generator, grid: torch.Tensor) -> torch.Tensor:
    """The object's coverage (H, W) in [0, 1] (behind any occluder), from the image's first
    draws."""
    main = object_params(spec, rng.random(MAIN_DRAWS).tolist())
    return _object_coverage(SHAPES[spec.shape], main, grid)


def render_hard(spec: ClassSpec, rng: np.random.Generator, grid: torch.Tensor) -> torch.Tensor:
    """One [0, 1] image (3, H, W) of class `spec` on the hard task, its nuisances from `rng`."""
    main = object_params(spec, rng.random(MAIN_DRAWS).tolist())
    device, (x, y) = grid.device, (grid[0], grid[1])
    generator = torch.Generator(device).manual_seed(int(rng.integers(2**62)))
    image = _pink_background(rng, grid, generator)
    distractors = [_distractor(rng, grid) for _ in range(int(rng.integers(0, 3)))]
    for in_front, mask, colour in distractors:
        if not in_front:
            image = colour * mask + image * (1 - mask)

    along = (x * math.cos(main["stripe"]) + y * math.sin(main["stripe"])) / main["scale"]
    stripes = torch.sigmoid(
        6 * torch.sin(math.pi * main["cycles"] * along + 2 * math.pi * main["phase"])
    ).unsqueeze(0)
    colour_a = hsv(main["hue"], main["sat"], main["val"], device)
    colour_b = hsv(main["hue"], main["sat"], 0.45 * main["val"], device)  # the same hue, darker
    mask = _object_coverage(SHAPES[spec.shape], main, grid).unsqueeze(0)
    image = (colour_a * stripes + colour_b * (1 - stripes)) * mask + image * (1 - mask)

    for in_front, mask, colour in distractors:
        if in_front:
            image = colour * mask + image * (1 - mask)
    if rng.random() < 0.3:  # an occluding bar across the object
        offset = (rng.random(2) * 2 - 1) * 0.6 * main["scale"]
        bar = coverage(
            "bar",
            main["cx"] + offset[0],
            main["cy"] + offset[1],
            0.15 + 0.15 * rng.random(),
            math.pi * rng.random(),
            0.3,
            grid,
        )
        shade = hsv(rng.random(), 0.5 * rng.random(), 0.2 + 0.6 * rng.random(), device)
        image = shade * bar.unsqueeze(0) + image * (1 - bar.unsqueeze(0))

    cast = torch.tensor(
        np.exp(rng.normal(0.0, 0.08, 3) + rng.uniform(-0.25, 0.25)),
        dtype=image.dtype,
        device=device,
    ).view(3, 1, 1)
    noise = 0.02 + 0.04 * rng.random()
    image = image * cast + noise * torch.randn(image.shape, generator=generator, device=device)
    return image.clamp_(0.0, 1.0)


def _object_coverage(shape: str, main: dict[str, float], grid: torch.Tensor) -> torch.Tensor:
    return coverage(
        shape, main["cx"], main["cy"], main["scale"], main["rotation"], main["sharp"], grid
    )


def _distractor(
    rng: np.random.Generator, grid: torch.Tensor
) -> tuple[bool, torch.Tensor, torch.Tensor]:
    """A small flat object of any shape and colour: (in front?, mask, colour)."""
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    cx, cy, scale, rotation, hue, front = rng.random(6).tolist()
    mask = coverage(
        shape, 1.8 * cx - 0.9, 1.8 * cy - 0.9, 0.1 + 0.12 * scale, 2 * math.pi * rotation, 0.3, grid
    ).unsqueeze(0)
    colour = hsv(hue, 0.3 + 0.5 * rng.random(), 0.3 + 0.6 * rng.random(), grid.device)
    return front < 0.3, mask, colour


def _pink_background(
    rng: np.random.Generator, grid: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Coloured 1/f noise (3, H, W) around a random base colour: a luminance field shared by the
    channels and weaker per-channel fields, each with a 1/f amplitude spectrum."""
    height, width = grid.shape[-2:]
    fy = torch.fft.fftfreq(height, device=grid.device).view(-1, 1)
    fx = torch.fft.rfftfreq(width, device=grid.device).view(1, -1)
    amplitude = 1.0 / torch.sqrt(fx * fx + fy * fy).clamp_min(1.0 / max(height, width))
    amplitude[0, 0] = 0.0  # zero mean
    spectrum = torch.complex(
        torch.randn((4, *amplitude.shape), generator=generator, device=grid.device),
        torch.randn((4, *amplitude.shape), generator=generator, device=grid.device),
    )
    fields = torch.fft.irfft2(spectrum * amplitude, s=(height, width))
    fields = fields / fields.flatten(1).std(1).clamp_min(1e-8).view(4, 1, 1)
    base = hsv(rng.random(), 0.35 * rng.random(), 0.3 + 0.4 * rng.random(), grid.device)
    return base * (1 + 0.2 * fields[:1]) + 0.04 * fields[1:]
