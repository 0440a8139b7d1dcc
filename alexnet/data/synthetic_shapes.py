"""Shapes and colours of the synthetic images: class specs, shape coverage masks, HSV colours."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from alexnet.errors import InvalidValue

SHAPES = ("disk", "square", "triangle", "hexagon", "cross", "ring", "star", "bar")


@dataclass(frozen=True)
class ClassSpec:
    """What makes a class: shape, stripe angle (radians), stripe frequency and hue (0..1).
    None marks an attribute that is not the class's (drawn per image, a nuisance)."""

    shape: int
    angle: float | None
    frequency: float | None
    hue: float


def coverage(
    shape: str,
    cx: float,
    cy: float,
    scale: float,
    rotation: float,
    sharp: float,
    grid: torch.Tensor,
) -> torch.Tensor:
    """How much of each pixel (H, W) in [0, 1] `shape` covers, centred at (cx, cy) in [-1, 1]
    image coordinates, `scale` its size, turned by `rotation` radians; its edge is `sharp`
    (a fraction of the object's size in pixels) wide."""
    x, y = grid[0], grid[1]
    cos_r, sin_r = math.cos(rotation), math.sin(rotation)
    u = ((x - cx) * cos_r + (y - cy) * sin_r) / scale
    v = (-(x - cx) * sin_r + (y - cy) * cos_r) / scale
    return torch.sigmoid(-signed_distance(shape, u, v) * pixels_per_scene(grid) * scale * sharp)


def pixels_per_scene(grid: torch.Tensor) -> torch.Tensor:
    """The pixels across the scene's [-1, 1]: the grid's width when it spans just that, fewer
    for a wider render (its last x is the half-width), so an edge is as soft per pixel at every
    render size. A 0-d tensor on the grid's device: no host sync."""
    return grid.shape[-1] / grid[0, 0, -1]


def signed_distance(shape: str, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
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


def hsv(
    hue: float, saturation: float, value: float, device: torch.device | None = None
) -> torch.Tensor:
    """An RGB colour (3, 1, 1) from HSV in [0, 1] (hue wraps around)."""
    hue = hue % 1.0
    rgb = [
        value * (1 - saturation * max(0.0, min(1.0, 2 - abs((hue * 6 - k) % 6 - 3))))
        for k in (0, 4, 2)
    ]
    return torch.tensor(rgb, device=device).view(3, 1, 1)


DRAWS = 15  # an easy image's uniform draws, before its noise seed (synthetic.render)


def stripe_angle(spec: ClassSpec, draws: list[float]) -> float:
    """The stripe angle (radians) an easy image of `spec` is drawn with: the class's angle t or
    its mirror image -t (one draw picks), jittered by up to 4 degrees either way."""
    sign = 1 if draws[14] < 0.5 else -1
    return sign * spec.angle + (draws[5] - 0.5) * math.radians(8)
