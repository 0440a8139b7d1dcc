"""The paper's claims in one table and one figure: experiments/results/claims.md and claims.png,
never edited by hand.

    python -m experiments.claims [--claims FILE] [--results DIR] [--out FILE]

Reads experiments/claims.yaml (the claims, arms, metrics, each claim's declared effect and
equivalence margin, and the analysis, declared before the runs) and each claim's effect.json
(the per-seed differences: experiments/results/ablation/<id>/ for the ablation's claims,
experiments/results/<experiment>/ for the others). The claims measured are judged together:
Holm's step-down gives each its level, and at that level experiments.lab.verdicts.judge says
one of: agrees, contradicts, smaller than the paper's, no effect within the margin, cannot tell
(each decisive word needs the paired t test and the exact sign-flip test). Beside each: the
paper's figure and the declared effect, the effect with its interval at the claim's level,
the smallest effect detectable at that level, seeds used and removed, both p-values, each
arm's worst dead fraction (flagged above the gate), and the commit that declared the claims
and the one that first committed the result. A claims file whose claim lacks a declared effect
or margin, an unknown verdict word or an effect.json of another claims version: one line naming
the claim and the key, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from alexnet.tables import markdown_table
from experiments.lab.claims import (
    CLAIMS_FILE,
    EFFECT_FILE,
    Claim,
    ClaimsError,
    Measured,
    load_claims,
    read_effect,
)
from experiments.lab.claims_figure import claims_figure
from experiments.lab.judging import judged
from experiments.lab.provenance import ROOT, commit_adding, first_commit
from experiments.lab.verdicts import Verdict, seeds_for_power

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = (
    "claim",
    "paper",
    "declared effect (margin)",
    "measured [interval at its level]",
    "seeds used (asked)",
    "smallest detectable",
    "p: t / sign-flip",
    "Holm level",
    "worst dead fraction",
    "data, size",
    "runs' wall time",
    "first result",
    "verdict",
)


def result_dir(results: Path, declared: Claim) -> Path:
    """Where a claim's effect.json is: the shared ablation sweep's claim folders
    (experiments/ablation_all.py), else its experiment's folder."""
    if declared.experiment == "ablation":
        return results / "ablation" / declared.id
    return results / declared.experiment


def shown(scale: str, value: float | None, sign: bool = True) -> str:
    """A difference in points of accuracy, a log-ratio as a ratio, a chroma share as is."""
    if value is None:
        return "n/a"
    if scale == "log-ratio":
        return f"{math.exp(value):.2f}x"
    if scale == "chroma share":
        return f"{value:{'+' if sign else ''}.4f}"
    return f"{100 * value:{'+' if sign else ''}.1f} points"


def declared_scale(declared: Claim) -> str:
    """The effect's scale before any result: a ratio's log, a chroma share, else a difference."""
    if "ratio" in declared.effect:
        return "log-ratio"
    return "chroma share" if "chroma" in declared.metric else "difference"


def worst_dead(result: Measured, gate: float) -> str:
    """Each arm's worst layer's dead fraction over its seeds, flagged above the gate."""
    parts = []
    for arm, seeds in result.dead.items():
        values = [f for layers in seeds.values() for f in layers.values()]
        if values:
            worst = max(values)
            parts.append(f"{arm} {worst:.2f}" + (" **above the gate**" if worst > gate else ""))
    return "; ".join(parts) or "not recorded"


def commit_of(path: Path, newest: bool = False) -> str:
    found = first_commit(path, newest=newest) if path.resolve().is_relative_to(ROOT) else None
    return f"`{found[:10]}`" if found else "not committed"


def row_of(
    declared: Claim, result: Measured | None, verdict: Verdict | None, folder: Path, gate: float
) -> dict[str, object]:
    row: dict[str, object] = {
        "claim": declared.claim,
        "paper": declared.paper,
        "declared effect (margin)": "",
    }
    scale = result.scale if result else declared_scale(declared)
    row["declared effect (margin)"] = (
        f"{shown(scale, declared.direction * declared.effect_size)} "
        f"({shown(scale, declared.margin, sign=False)})"
    )
    if result is None:
        return {
            **row,
            "measured [interval at its level]": "not measured yet",
            "verdict": "no result at this commit",
        }
    low, high = verdict.interval if verdict else (None, None)
    seeds = (
        f"{len(result.deltas)}"
        + (f" ({len(result.removed)} removed)" if result.removed else "")
        + (f" ({len(result.censored)} censored)" if result.censored else "")
    )
    asked = declared.seeds.get(result.size)
    row.update(
        {
            "measured [interval at its level]": f"{shown(scale, result.effect.mean)} "
            f"[{shown(scale, low)}, {shown(scale, high)}]",
            "seeds used (asked)": seeds
            + (f" ({asked})" if asked else "")
            + power_note(result, verdict, declared.effect_size),
            "smallest detectable": shown(scale, verdict.detectable if verdict else None, False),
            "p: t / sign-flip": (
                f"{verdict.p_t:.3g} / {verdict.p_sign_flip:.3g}" if verdict else "n/a"
            ),
            "Holm level": f"{verdict.level:.3g}" if verdict else "n/a",
            "worst dead fraction": worst_dead(result, gate),
            "data, size": f"{result.data}, {result.size}",
            "runs' wall time": wall_time(folder),
            "first result": commit_of(folder / EFFECT_FILE, newest=True),
            "verdict": (verdict.word if verdict else "cannot tell: 1 seed pair, no test")
            + (
                " (smaller than the paper's)"
                if verdict and verdict.smaller_than_paper and verdict.word == "agrees"
                else ""
            )
            + (f": {verdict.why}" if verdict and verdict.why else "")
            + (
                f"; **not one of its expected verdicts** ({', '.join(declared.expected)})"
                if verdict and declared.expected and verdict.word not in declared.expected
                else ""
            ),
        }
    )
    return row


def power_note(result: Measured, verdict: Verdict | None, effect: float) -> str:
    """Where the seeds could not detect the declared effect at the claim's level: how many its
    measured SD would need there (80% power), or that over 1000 would."""
    if verdict is None or verdict.detectable <= effect or len(result.deltas) < 2:
        return ""
    mean = math.fsum(result.deltas) / len(result.deltas)
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in result.deltas) / (len(result.deltas) - 1))
    needed = seeds_for_power(sd, effect, verdict.level, max_n=1000)
    return f"; its SD would need {needed if needed else 'over 1000'}"


def wall_time(folder: Path) -> str:
    """The summed wall time of the runs in the claim's folder (its two arms' runs; with a
    regime's calibration sweep, that too), as each run's metrics.json recorded it."""
    path = folder / "runs.json"
    if not path.is_file():
        return "n/a"
    runs = json.loads(path.read_text())
    seconds = sum(float(r["record"].get("wall_time_s") or 0) for r in runs)
    return f"{seconds / 60:.0f} min ({len(runs)} runs)"


def table(results: Path, claims_file: Path) -> tuple[str, list]:
    """The page's text (less its figure) and what the figure draws; ClaimsError on bad input."""
    analysis, claims = load_claims(claims_file)
    found = [(c, read_effect(result_dir(results, c), analysis["version"])) for c in claims]
    measured = [(c, m) for c, m in found if m is not None]
    verdicts = dict(zip([c.id for c, _ in measured], judged(measured, analysis, len(claims))))
    gate = float(analysis.get("dead_gate", 0.10))
    rows = [row_of(c, m, verdicts.get(c.id), result_dir(results, c), gate) for c, m in found]
    drawn = [(c, m, verdicts[c.id]) for c, m in measured if verdicts[c.id] is not None]
    version_line = f"version: {analysis['version']}\n"
    found = (
        commit_adding(claims_file, version_line)
        if claims_file.resolve().is_relative_to(ROOT)
        else None
    )
    declared_at = f"`{found[:10]}`" if found else "not committed"
    return (
        "# The paper's claims, as measured here\n\n"
        f"Made by `python -m experiments.claims` from {claims_file.name} (version "
        f"{analysis['version']}: the claims, arms, metrics, each claim's declared effect and "
        f"margin, and the analysis; this version declared at commit {declared_at}) and each "
        "claim's effect.json under experiments/results/; each result's own page gives its "
        "command, commit, versions and machine. Effects are treatment - reference (or a "
        "ratio), paired by seed. Holm's step-down over all the declared claims (those not "
        "measured yet count as p = 1) gives each claim its level; the interval and the "
        "smallest detectable effect (80% power) are at that level. A verdict needs the "
        "paired t test and the exact sign-flip test to agree: agrees / contradicts (beyond "
        "noise, the paper's direction / the other), smaller than the paper's (the interval "
        "excludes the declared effect), no effect within the margin (two one-sided tests), "
        "cannot tell (with the reason). A seed pair with a failed or diverged run is removed "
        "and counted; above "
        f"{float(analysis.get('max_removed_share', 0.2)):g} of the pairs removed, the claim "
        f"cannot tell. An arm whose layer ends with more than {gate:g} of its units dead is "
        "flagged. The paper's figures for LRN and pooling are changes of its *error*; the "
        "effects here are of validation *accuracy* or the overfitting gap, signed so that "
        "the paper's direction is positive.\n\n![each claim's effect](claims.png)\n\n"
        + markdown_table(rows, COLUMNS),
        drawn,
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=Path, default=CLAIMS_FILE, help="the claims file")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=None, help="default: RESULTS/claims.md")
    args = parser.parse_args(argv)
    out = args.out or args.results / "claims.md"
    try:
        text, drawn = table(args.results, args.claims)
    except ClaimsError as error:  # nothing written
        sys.exit(f"error: {error}")
    claims_figure(drawn).savefig(out.with_suffix(".png"), dpi=100)
    out.write_text(text)
    print(text)
    return out


if __name__ == "__main__":
    main()
