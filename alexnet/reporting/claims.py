"""The paper's claims as the lab tests them: declared in experiments/claims.yaml before the runs,
scored here from each experiment's effect.json, corrected together (Holm) and put in words."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from alexnet.reporting.provenance import ROOT
from alexnet.reporting.stats import PairedEffect, holm

CLAIMS_FILE = ROOT / "experiments" / "claims.yaml"
EFFECT_FILE = "effect.json"


@dataclass(frozen=True)
class Claim:
    """One claim: what the paper says, which arms test it, on which metric, in which direction
    (+1: the treatment's metric, or ratio, above the reference's)."""

    id: str
    claim: str
    paper: str
    experiment: str
    reference: str
    treatment: str
    metric: str
    direction: int
    effect: str


def load_claims(path: Path = CLAIMS_FILE) -> tuple[dict[str, Any], list[Claim]]:
    """The declared analysis (confidence, power, verdict words, ...) and the claims."""
    data = yaml.safe_load(path.read_text())
    claims = [
        Claim(
            id=c["id"],
            claim=c["claim"],
            paper=c["paper"],
            experiment=c["experiment"],
            reference=str(c["arms"]["reference"]),
            treatment=str(c["arms"]["treatment"]),
            metric=c["metric"],
            direction=int(c["direction"]),
            effect=c["effect"],
        )
        for c in data["claims"]
    ]
    return data["analysis"], claims


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
    """One claim's measured effect, as an experiment writes it (effect.json): the paired
    effect (a difference, or a log-ratio for a ratio claim), on what data and size."""

    claim: str
    effect: PairedEffect
    scale: str  # "difference" (of accuracies), "log-ratio" or "chroma share" (a difference)
    data: str
    size: str
    seeds: list[int]


def write_effect(out: Path, measured: Measured) -> Path:
    path = out / EFFECT_FILE
    path.write_text(json.dumps(asdict(measured), indent=1) + "\n")
    return path


def read_effect(folder: Path) -> Measured | None:
    path = folder / EFFECT_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return Measured(
        data["claim"],
        PairedEffect(**data["effect"]),
        data["scale"],
        data["data"],
        data["size"],
        list(data["seeds"]),
    )


def verdicts(
    measured: list[tuple[Claim, Measured]], analysis: dict[str, Any]
) -> list[tuple[float | None, str]]:
    """Per claim, the Holm-adjusted p-value (over the claims measured together) and the verdict:
    agrees or contradicts only where the adjusted test rejects no effect at the declared level,
    by the sign of the effect against the paper's direction; otherwise undecided."""
    words = analysis["verdicts"]
    level = 1 - float(analysis["confidence"])
    tested = [i for i, (_, m) in enumerate(measured) if m.effect.p_value is not None]
    adjusted = dict(zip(tested, holm([measured[i][1].effect.p_value for i in tested])))
    results = []
    for index, (declared, found) in enumerate(measured):
        p_value = adjusted.get(index)
        if p_value is None or p_value >= level or found.effect.mean == 0:
            results.append((p_value, words["undecided"]))
            continue
        same = (found.effect.mean > 0) == (declared.direction > 0)
        results.append((p_value, words["agrees"] if same else words["contradicts"]))
    return results


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
