"""Synthetic images drawn a batch at a time, on any device (``data.render_on=device``).

Every image's draws (numpy, on the host, in the order the frozen task versions fix) become one
row of numbers; the rows travel to the device in one copy, and each drawing step (shape masks,
stripes, backgrounds, distractors, occluders, colour casts) runs once for the whole batch. Only
the random fields (pixel noise, the hard task's 1/f background) are drawn per image, each from
its own generator seeded by the image's draws, so an image never depends on its batch-mates.
On the CPU the images equal the loader's (`SyntheticImageNet.__getitem__`); on a GPU they
differ only in those random fields (another generator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from alexnet.data.synthetic_hard import MAIN_DRAWS, object_params
from alexnet.data.synthetic_shapes import (
    DRAWS,
    SHAPES,
    ClassSpec,
    pixels_per_scene,
    signed_distance,
    stripe_angle,
)

Row = list[float]


def hsv_rgb(hue: float, saturation: float, value: float) -> list[float]:
    """An RGB colour from HSV in [0, 1], as `synthetic_shapes.hsv` computes it."""
    hue = hue % 1.0
    return [
        value * (1 - saturation * max(0.0, min(1.0, 2 - abs((hue * 6 - k) % 6 - 3))))
        for k in (0, 4, 2)
    ]


class Shape:
    """One coverage mask's numbers: shape index, centre, size, rotation and edge sharpness."""

    WIDTH = 7

    @staticmethod
    def row(shape: int, cx: float, cy: float, scale: float, rotation: float, sharp: float) -> Row:
        return [float(shape), cx, cy, math.cos(rotation), math.sin(rotation), scale, sharp]

    @staticmethod
    def coverage(columns: torch.Tensor, grid: torch.Tensor, shapes: set[int]) -> torch.Tensor:
        """(B, H, W) coverage of the batch's shapes, `columns` (B, WIDTH) on the device."""
        shape, cx, cy, cos_r, sin_r, scale, sharp = (c.view(-1, 1, 1) for c in columns.T)
        x, y = grid[0], grid[1]
        u = ((x - cx) * cos_r + (y - cy) * sin_r) / scale
        v = (-(x - cx) * sin_r + (y - cy) * cos_r) / scale
        distance = None
        for index in sorted(shapes):  # each shape in the batch, over the whole batch
            mine = signed_distance(SHAPES[index], u, v)
            distance = mine if distance is None else torch.where(shape == index, mine, distance)
        return torch.sigmoid(-distance * pixels_per_scene(grid) * scale * sharp)


def upload(rows: Sequence[Row], device: torch.device) -> torch.Tensor:
    """The batch's rows as one (B, P) float32 tensor on `device`, in one (asynchronous) copy."""
    table = torch.tensor(rows, dtype=torch.float32)
    if device.type == "cuda":
        return table.pin_memory().to(device, non_blocking=True)
    return table.to(device)


def noise(
    seeds: Sequence[int],
    shapes: Sequence[tuple[int, ...]],
    device: torch.device,
    random_fields: bool = True,
) -> list[torch.Tensor]:
    """Per field in `shapes`, the (B, *shape) standard normal draws of each image's own
    generator (seeded by `seeds`), drawn in the order of `shapes`; zeros without
    `random_fields` (to compare what devices draw alike)."""
    if not random_fields:
        return [torch.zeros((len(seeds), *shape), device=device) for shape in shapes]
    fields: list[list[torch.Tensor]] = [[] for _ in shapes]
    for seed in seeds:
        generator = torch.Generator(device).manual_seed(seed)
        for field, shape in zip(fields, shapes):
            field.append(torch.randn(shape, generator=generator, device=device))
    return [torch.stack(field) for field in fields]


# The easy task -------------------------------------------------------------------------------
def easy_row(spec: ClassSpec, rng: np.random.Generator) -> tuple[Row, int, int]:
    """An easy image's numbers (see `synthetic.render`), its shape and its noise seed."""
    draws = rng.random(DRAWS).tolist()
    (
        cx,
        cy,
        scale,
        rotation,
        phase,
        _,
        hue_jitter,
        bg_hue,
        bg_sat,
        bg_val,
        grad_angle,
        grad_amp,
        level,
        sharp,
        _,
    ) = draws
    scale = 0.3 + 0.35 * scale
    cx, cy = (cx * 2 - 1) * (0.95 - scale), (cy * 2 - 1) * (0.95 - scale)
    mask = Shape.row(
        spec.shape, cx, cy, scale, (rotation - 0.5) * math.radians(30), 0.25 + 0.25 * sharp
    )
    angle = stripe_angle(spec, draws)
    hue = spec.hue + (hue_jitter - 0.5) / 18
    row = [
        *mask,
        math.cos(angle),
        math.sin(angle),
        scale,
        math.pi * spec.frequency,
        2 * math.pi * phase,
        *hsv_rgb(hue, 0.85, 0.9),
        *hsv_rgb(hue + 0.5, 0.85, 0.9),
        *hsv_rgb(bg_hue, 0.6 * bg_sat, 0.25 + 0.6 * bg_val),
        math.cos(2 * math.pi * grad_angle),
        math.sin(2 * math.pi * grad_angle),
        0.4 * grad_amp,
        0.02 + 0.08 * level,
    ]
    return row, spec.shape, int(rng.integers(2**62))


def draw_easy(
    table: torch.Tensor,
    grid: torch.Tensor,
    shapes: set[int],
    seeds: Sequence[int],
    random_fields: bool = True,
) -> torch.Tensor:
    """The [0, 1] easy images (B, 3, H, W) of `table`'s rows (see `easy_row`)."""
    x, y = grid[0], grid[1]
    mask = Shape.coverage(table[:, : Shape.WIDTH], grid, shapes).unsqueeze(1)
    rest = table[:, Shape.WIDTH :]
    cos_a, sin_a, scale, cycles, phase = (rest[:, i].view(-1, 1, 1) for i in range(5))
    colour_a, colour_b, background = (rest[:, i : i + 3].view(-1, 3, 1, 1) for i in (5, 8, 11))
    grad_cos, grad_sin, grad_amp, level = (rest[:, i].view(-1, 1, 1) for i in range(14, 18))
    along = (x * cos_a + y * sin_a) / scale
    stripes = torch.sigmoid(6 * torch.sin(cycles * along + phase)).unsqueeze(1)
    foreground = colour_a * stripes + colour_b * (1 - stripes)
    gradient = x * grad_cos + y * grad_sin
    background = background * (1 + grad_amp * gradient).unsqueeze(1)
    image = foreground * mask + background * (1 - mask)
    (pixels,) = noise(seeds, [tuple(image.shape[1:])], image.device, random_fields)
    return (image + level.unsqueeze(1) * pixels).clamp_(0.0, 1.0)


# The hard task --------------------------------------------------------------------------------
DISTRACTORS = 2  # slots: an image has 0 to 2 distractors
NO_SHAPE = Shape.row(0, 0.0, 0.0, 1.0, 0.0, 0.3)  # an empty slot's numbers (its flags are 0)


def hard_row(spec: ClassSpec, rng: np.random.Generator) -> tuple[Row, set[int], int]:
    """A hard image's numbers (see `synthetic_hard.render_hard`, whose draws they follow in
    order), the shapes it uses and its noise seed."""
    main = object_params(spec, rng.random(MAIN_DRAWS).tolist())
    seed = int(rng.integers(2**62))
    base = hsv_rgb(rng.random(), 0.35 * rng.random(), 0.3 + 0.4 * rng.random())
    shapes = {spec.shape}
    slots: list[Row] = []
    for _ in range(int(rng.integers(0, 3))):
        shape = int(rng.integers(len(SHAPES)))
        cx, cy, scale, rotation, hue, front = rng.random(6).tolist()
        colour = hsv_rgb(hue, 0.3 + 0.5 * rng.random(), 0.3 + 0.6 * rng.random())
        slots.append(
            [
                *Shape.row(
                    shape,
                    1.8 * cx - 0.9,
                    1.8 * cy - 0.9,
                    0.1 + 0.12 * scale,
                    2 * math.pi * rotation,
                    0.3,
                ),
                *colour,
                float(front >= 0.3),
                float(front < 0.3),
            ]
        )  # behind, in front
        shapes.add(shape)
    while len(slots) < DISTRACTORS:
        slots.append([*NO_SHAPE, 0.0, 0.0, 0.0, 0.0, 0.0])
    bar = [*Shape.row(SHAPES.index("bar"), 0.0, 0.0, 1.0, 0.0, 0.3), 0.0, 0.0, 0.0, 0.0]
    if rng.random() < 0.3:  # an occluding bar across the object
        offset = (rng.random(2) * 2 - 1) * 0.6 * main["scale"]
        bar = [
            *Shape.row(
                SHAPES.index("bar"),
                main["cx"] + offset[0],
                main["cy"] + offset[1],
                0.15 + 0.15 * rng.random(),
                math.pi * rng.random(),
                0.3,
            ),
            *hsv_rgb(rng.random(), 0.5 * rng.random(), 0.2 + 0.6 * rng.random()),
            1.0,
        ]
    cast = np.exp(rng.normal(0.0, 0.08, 3) + rng.uniform(-0.25, 0.25)).tolist()
    level = 0.02 + 0.04 * rng.random()
    obj = [
        *Shape.row(
            spec.shape, main["cx"], main["cy"], main["scale"], main["rotation"], main["sharp"]
        ),
        math.cos(main["stripe"]),
        math.sin(main["stripe"]),
        math.pi * main["cycles"],
        2 * math.pi * main["phase"],
        *hsv_rgb(main["hue"], main["sat"], main["val"]),
        *hsv_rgb(main["hue"], main["sat"], 0.45 * main["val"]),
    ]
    return [*obj, *base, *slots[0], *slots[1], *bar, *cast, level], shapes, seed


def draw_hard(
    table: torch.Tensor,
    grid: torch.Tensor,
    shapes: set[int],
    seeds: Sequence[int],
    random_fields: bool = True,
) -> torch.Tensor:
    """The [0, 1] hard images (B, 3, H, W) of `table`'s rows (see `hard_row`)."""
    x, y = grid[0], grid[1]
    height, width = grid.shape[-2:]
    columns = iter(range(table.shape[1]))

    def take(count: int) -> torch.Tensor:
        first = next(columns)
        for _ in range(count - 1):
            next(columns)
        return table[:, first : first + count]

    def scalar(column: torch.Tensor) -> torch.Tensor:
        return column.reshape(-1, 1, 1)

    def colour(columns3: torch.Tensor) -> torch.Tensor:
        return columns3.reshape(-1, 3, 1, 1)

    obj, (cos_s, sin_s, cycles, phase) = take(Shape.WIDTH), take(4).T
    colour_a, colour_b, base = colour(take(3)), colour(take(3)), colour(take(3))
    slots = [(take(Shape.WIDTH), colour(take(3)), take(1), take(1)) for _ in range(DISTRACTORS)]
    bar, shade, occluded = take(Shape.WIDTH), colour(take(3)), take(1)
    cast, level = colour(take(3)), scalar(take(1))

    real, imaginary, pixels = noise(
        seeds, [(4, height, width // 2 + 1)] * 2 + [(3, height, width)], table.device, random_fields
    )
    image = (
        base * (1 + 0.2 * (fields := _pink_fields(real, imaginary, grid))[:, :1])
        + 0.04 * fields[:, 1:]
    )
    distractors = [
        (Shape.coverage(mask, grid, shapes).unsqueeze(1), paint, behind, front)
        for mask, paint, behind, front in slots
    ]
    for mask, paint, behind, _ in distractors:
        mask = mask * behind.view(-1, 1, 1, 1)
        image = paint * mask + image * (1 - mask)

    along = (x * scalar(cos_s) + y * scalar(sin_s)) / scalar(obj[:, 5])
    stripes = torch.sigmoid(6 * torch.sin(scalar(cycles) * along + scalar(phase))).unsqueeze(1)
    mask = Shape.coverage(obj, grid, shapes).unsqueeze(1)
    image = (colour_a * stripes + colour_b * (1 - stripes)) * mask + image * (1 - mask)

    for mask, paint, _, front in distractors:
        mask = mask * front.view(-1, 1, 1, 1)
        image = paint * mask + image * (1 - mask)
    cover = Shape.coverage(bar, grid, {SHAPES.index("bar")}).unsqueeze(1)
    cover = cover * occluded.view(-1, 1, 1, 1)
    image = shade * cover + image * (1 - cover)
    image = image * cast + level.unsqueeze(1) * pixels
    return image.clamp_(0.0, 1.0)


def _pink_fields(real: torch.Tensor, imaginary: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """The 1/f fields (B, 4, H, W) of `synthetic_hard._pink_background`, from its draws."""
    height, width = grid.shape[-2:]
    fy = torch.fft.fftfreq(height, device=grid.device).view(-1, 1)
    fx = torch.fft.rfftfreq(width, device=grid.device).view(1, -1)
    amplitude = 1.0 / torch.sqrt(fx * fx + fy * fy).clamp_min(1.0 / max(height, width))
    amplitude[0, 0] = 0.0  # zero mean
    fields = torch.fft.irfft2(torch.complex(real, imaginary) * amplitude, s=(height, width))
    return fields / fields.flatten(2).std(2).clamp_min(1e-8).view(*fields.shape[:2], 1, 1)
