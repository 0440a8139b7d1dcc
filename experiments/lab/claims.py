"""The paper's claims as the lab tests them: declared in experiments/claims.yaml before the runs
(each with the effect it tests and its equivalence margin), measured into each experiment's
effect.json (the per-seed differences), judged together here: Holm's levels, then
verdicts.judge's words."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from experiments.lab.provenance import ROOT
from experiments.lab.stats import PairedEffect, paired_difference
from experiments.lab.verdicts import WORDS

CLAIMS_FILE = ROOT / "experiments" / "claims.yaml"
EFFECT_FILE = "effect.json"


class ClaimsError(ValueError):
    """A claims file or an effect.json the table cannot use: one line naming the claim and key."""


@dataclass(frozen=True)
class Claim:
    """One claim: what the paper says, which arms test it, on which metric, in which direction
    (+1: the treatment's metric, or ratio, above the reference's), and, declared before its runs,
    the effect it tests (`effect_size`, on the effect's own scale: a difference of accuracies, a
    log-ratio, a chroma share) and the equivalence `margin` below which it counts as no effect."""

    id: str
    claim: str
    paper: str
    experiment: str
    reference: str
    treatment: str
    metric: str
    direction: int
    effect: str
    effect_size: float = 0.0
    margin: float = 0.0
    expected: tuple[str, ...] = ()  # the verdicts a calibrating claim (the placebo) may get
    seeds: dict[str, int] = field(default_factory=dict)  # per size, from the power analysis
    overrides: dict[str, list[str]] = field(default_factory=dict)  # per size: a shrunk run's


def load_claims(path: Path = CLAIMS_FILE) -> tuple[dict[str, Any], list[Claim]]:
    """The declared analysis (confidence, power, verdict words, ...) and the claims; a claim
    without a declared effect_size or margin, or a verdict word not in verdicts.WORDS, is a
    ClaimsError naming the claim and the key."""
    data = yaml.safe_load(path.read_text())
    analysis = data["analysis"]
    for word in analysis.get("verdicts") or []:
        if word not in WORDS:
            raise ClaimsError(
                f"analysis.verdicts: {word!r} is not a verdict; the verdicts: {', '.join(WORDS)}"
            )
    claims = []
    for declared in data["claims"]:
        name = declared.get("id", "?")
        for key in ("effect_size", "margin"):
            value = declared.get(key)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool)) or not (
                math.isfinite(value) and value > 0
            ):
                raise ClaimsError(
                    f"claim {name!r}: {key} must be declared, a number > 0; got {value!r}"
                )
        if declared["margin"] >= declared["effect_size"]:
            raise ClaimsError(
                f"claim {name!r}: margin={declared['margin']} must be below "
                f"effect_size={declared['effect_size']}"
            )
        if declared.get("direction") not in (1, -1):
            raise ClaimsError(
                f"claim {name!r}: direction must be +1 or -1; got {declared.get('direction')!r}"
            )
        expected = tuple(declared.get("expected") or ())
        for word in expected:
            if word not in WORDS:
                raise ClaimsError(
                    f"claim {name!r}: expected {word!r} is not a verdict; the verdicts: "
                    f"{', '.join(WORDS)}"
                )
        claims.append(
            Claim(
                id=name,
                claim=declared["claim"],
                paper=declared["paper"],
                experiment=declared["experiment"],
                reference=str(declared["arms"]["reference"]),
                treatment=str(declared["arms"]["treatment"]),
                metric=declared["metric"],
                direction=int(declared["direction"]),
                effect=declared["effect"],
                effect_size=float(declared["effect_size"]),
                margin=float(declared["margin"]),
                expected=expected,
                seeds={str(k): int(v) for k, v in (declared.get("seeds") or {}).items()},
                overrides={
                    str(k): [str(o) for o in v]
                    for k, v in (declared.get("overrides") or {}).items()
                },
            )
        )
    return {**analysis, "version": int(data["version"])}, claims


def claims_version(path: Path = CLAIMS_FILE) -> int:
    return int(yaml.safe_load(path.read_text())["version"])


def reference_overrides(size: str, path: Path = CLAIMS_FILE) -> list[str]:
    """The reference arm's recipe at `size` (Hydra overrides), as declared."""
    recipe = yaml.safe_load(path.read_text())["reference"]
    return [*recipe["all"], *recipe.get(size, [])]


def full_data(claim_id: str, path: Path = CLAIMS_FILE) -> str:
    """The dataset claim `claim_id` declares for the full size (its own, else the size's)."""
    data = yaml.safe_load(path.read_text())
    own = next((c.get("data") or {} for c in data["claims"] if c["id"] == claim_id), {})
    return str(own.get("full") or data["sizes"]["full"]["data"])


def claim(claim_id: str, path: Path = CLAIMS_FILE) -> Claim:
    """The declared claim `claim_id`."""
    _, claims = load_claims(path)
    found = [c for c in claims if c.id == claim_id]
    if not found:
        raise KeyError(
            f"claim {claim_id!r} is not in {path}; declared: {', '.join(c.id for c in claims)}"
        )
    return found[0]


@dataclass(frozen=True)
class Measured:
    """One claim's measured effect, as an experiment writes it (effect.json): the per-seed
    differences (treatment - reference, or a log-ratio), their paired summary, on what data and
    size; each arm's dead fractions (arm -> seed -> layer -> fraction, the probe's last entry);
    the seed pairs removed by the declared rule (seed -> why: a failed or diverged run); the
    pairs censored (seed -> why: entered at a bound, e.g. an arm that never crossed by the
    horizon); the claims version it was measured under."""

    claim: str
    effect: PairedEffect
    scale: str  # "difference" (of accuracies), "log-ratio" or "chroma share" (a difference)
    data: str
    size: str
    seeds: list[int]
    deltas: list[float] = field(default_factory=list)  # aligned with seeds
    dead: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    version: int = 0
    censored: dict[str, str] = field(default_factory=dict)


def measured(
    claim_id: str,
    treatment: dict[int, float],
    reference: dict[int, float],
    scale: str,
    data: str,
    size: str,
    *,
    dead: dict[str, dict[str, dict[str, float]]] | None = None,
    removed: dict[str, str] | None = None,
    censored: dict[str, str] | None = None,
    path: Path = CLAIMS_FILE,
) -> Measured:
    """The paired effect of treatment - reference (seed -> value) over their common seeds,
    with the per-seed differences kept, under this claims file's version."""
    seeds = sorted(set(treatment) & set(reference))
    return Measured(
        claim_id,
        paired_difference(treatment, reference),
        scale,
        data,
        size,
        seeds,
        [treatment[s] - reference[s] for s in seeds],
        dead or {},
        removed or {},
        claims_version(path),
        censored or {},
    )


def write_effect(out: Path, measured: Measured) -> Path:
    path = out / EFFECT_FILE
    path.write_text(json.dumps(asdict(measured), indent=1) + "\n")
    return path


def read_effect(folder: Path, version: int | None = None) -> Measured | None:
    """The effect.json in `folder` (None if there is none); with `version`, one written under
    another claims version is a ClaimsError naming the claim and the key."""
    path = folder / EFFECT_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    found = int(data.get("version", 1))
    if version is not None and found != version:
        raise ClaimsError(
            f"claim {data.get('claim')!r}: version={found} in {path} is not the claims file's "
            f"version {version}; re-run the claim, or move the old result out of the results"
        )
    return Measured(
        data["claim"],
        PairedEffect(**data["effect"]),
        data["scale"],
        data["data"],
        data["size"],
        list(data["seeds"]),
        list(data.get("deltas", [])),
        dict(data.get("dead", {})),
        dict(data.get("removed", {})),
        found,
        dict(data.get("censored", {})),
    )


def effect_sentence(
    measured: Measured | None,
    label: str,
    full_label: str | None = None,
    scale: float = 1.0,
    digits: int = 4,
    unit: str = "",
) -> str:
    """One line for a result page: the paired effect (times `scale`, with `digits` decimals and
    `unit`), its interval, p-value, seed count and the smallest effect the seeds could detect."""
    if measured is None:
        return "No completed run: nothing measured."
    effect, suffix = measured.effect, f" {unit}" if unit else ""

    def shown(value: float, sign: bool = True) -> str:
        return f"{scale * value:{'+' if sign else ''}.{digits}f}"

    if effect.low is None:
        return f"{label}: {shown(effect.mean)}{suffix} (1 seed: no interval)."
    return (
        f"{full_label or label}: **{shown(effect.mean)}{suffix}** [{shown(effect.low)}, "
        f"{shown(effect.high)}], p = {effect.p_value:.3g}, {effect.n} seeds; smallest "
        f"detectable {shown(effect.detectable, sign=False)}{suffix}."
    )
