"""Experiment 2, activations: every activation of the model's registry and its derivative.

    python -m experiments.activations [--out DIR] [--threshold 0.05]

Writes activations.png (functions left, derivatives right, on [-6, 6]) and activations.md/.csv:
f(2), f'(2), and where each saturates (|f'(x)| below the threshold, searched on [-10, 10]).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from matplotlib.figure import Figure

from alexnet.models.activations import activation_names, make_activation
from alexnet.tables import write_table
from experiments.lab.harness import output_dir
from experiments.lab.provenance import recorded

# -10 .. 10 in steps of 0.001: a division is correctly rounded on every CPU kernel (linspace's
# points differ by an ulp between vectorized and scalar kernels, which can flip a rounding tie).
GRID = torch.arange(-10_000, 10_001, dtype=torch.float64) / 1000


def curve(name: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f(x) and f'(x) of registry activation `name`, the derivative by autograd."""
    module = make_activation(name)
    if hasattr(module, "inplace"):
        module.inplace = False
    x = x.clone().requires_grad_(True)
    y = module(x)
    (grad,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), grad


def saturation(x: torch.Tensor, grad: torch.Tensor, threshold: float) -> str:
    """Where |f'| < threshold: "x < a", "x > b", both, or "never" (within the grid)."""
    flat = grad.abs() < threshold
    parts = []
    negative = (x < 0) & ~flat
    if flat[0]:
        edge = x[negative].min().item() if negative.any() else 0.0
        parts.append(f"x < {edge:.2f}" if edge < 0 else "x < 0")
    positive = (x > 0) & ~flat
    if flat[-1]:
        edge = x[positive].max().item() if positive.any() else 0.0
        parts.append(f"x > {edge:.2f}" if edge > 0 else "x > 0")
    return " and ".join(parts) or "never"


def rows(threshold: float) -> list[dict[str, object]]:
    """f(2), f'(2) and the saturation region of each registered activation."""
    table = []
    for name in activation_names():
        value, slope = curve(name, torch.tensor([2.0], dtype=torch.float64))
        _, grad = curve(name, GRID)
        table.append(
            {
                "activation": name,
                "f(2)": round(value.item(), 4),
                "f'(2)": round(slope.item(), 4),
                f"saturates (f' within ±{threshold:g})": saturation(GRID, grad, threshold),
            }
        )
    return table


def figure() -> Figure:
    """Functions (left) and their derivatives (right) on [-6, 6]."""
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    fig = Figure(figsize=(12, 4.8))
    left, right = fig.subplots(1, 2)
    for name in activation_names():
        y, grad = curve(name, x)
        left.plot(x, y, label=name)
        right.plot(x, grad, label=name)
    left.set_title("f(x)")
    right.set_title("f'(x): where it is ~0 the unit has stopped learning")
    left.set_ylim(-2, 6)
    for axes in (left, right):
        axes.axhline(0, color="grey", lw=0.5)
        axes.axvline(0, color="grey", lw=0.5)
        axes.set_xlabel("x")
    left.legend(ncol=2, fontsize=8)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output dir (default: logs/experiments/activations/<time>)")
    parser.add_argument(
        "--threshold", type=float, default=0.05, help="|f'(x)| below this counts as saturated"
    )
    args = parser.parse_args(argv)
    out = output_dir("activations", args.out)
    with recorded(out):
        print(write_table(rows(args.threshold), out / "activations"))
        figure().savefig(out / "activations.png", dpi=110)
        print(f"Wrote {out}")
    return out


if __name__ == "__main__":
    main()
