"""The claims page's figure: one panel per claim on its own scale, its effect and interval
beside the declared (paper's) effect, the equivalence margin and the smallest detectable band."""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from experiments.lab.claims import Claim, Measured
from experiments.lab.verdicts import Verdict

UNITS = {"difference": ("points", 100.0), "chroma share": ("chroma share", 1.0)}


def _scaled(scale: str, value: float) -> float:
    if scale == "log-ratio":
        return math.exp(value)
    return UNITS.get(scale, ("", 1.0))[1] * value


def claims_figure(drawn: list[tuple[Claim, Measured, Verdict]]) -> Figure:
    """Each claim a row: the measured effect (dot) and its interval at the claim's Holm level
    (bar), the declared effect in the paper's direction (diamond), the margin (dashed) and
    the effects the run could not detect (grey band around no effect)."""
    figure = Figure(figsize=(7.5, 1.2 + 1.05 * max(1, len(drawn))))
    if not drawn:
        axes = figure.subplots()
        axes.text(0.5, 0.5, "no claim measured yet", ha="center", va="center")
        axes.set_axis_off()
        return figure
    panels = figure.subplots(len(drawn), 1, squeeze=False)[:, 0]
    for axes, (declared, result, verdict) in zip(panels, drawn):
        scale = result.scale
        null = 1.0 if scale == "log-ratio" else 0.0

        def at(value: float, scale: str = scale) -> float:
            return _scaled(scale, value)

        low, high = verdict.interval
        axes.axvspan(at(-verdict.detectable), at(verdict.detectable), color="0.88", lw=0)
        for side in (-1, 1):
            axes.axvline(at(side * declared.margin), color="0.5", ls="--", lw=0.8)
        axes.axvline(null, color="black", lw=0.8)
        axes.errorbar(
            at(verdict.mean),
            0,
            xerr=[[at(verdict.mean) - at(low)], [at(high) - at(verdict.mean)]],
            fmt="o",
            color="tab:blue",
            capsize=4,
        )
        axes.plot(at(declared.direction * declared.effect_size), 0, "D", color="tab:red")
        if scale == "log-ratio":
            axes.set_xscale("log")
        axes.set_yticks([])
        unit = "ratio" if scale == "log-ratio" else UNITS.get(scale, (scale, 1))[0]
        axes.set_title(f"{declared.id}: {verdict.word} ({unit})", fontsize=9, loc="left")
    panels[-1].set_xlabel(
        "dot and bar: measured, interval at the claim's Holm level; diamond: the declared "
        "effect; dashed: the margin; grey: not detectable",
        fontsize=8,
    )
    figure.tight_layout()
    return figure
