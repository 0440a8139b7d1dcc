"""The paper's claims in one table: experiments/results/claims.md, never edited by hand.

    python experiments/claims.py [--results DIR] [--out FILE]

Reads experiments/claims.yaml (the claims, arms, metrics and analysis, declared before the
runs) and each claim's committed result (its effect.json: experiments/results/ablation_<id>/
for the ablation's claims, experiments/results/<experiment>/ for the others). The claims
measured are tested together: Holm's adjustment over their p-values, then a verdict in words:
"agrees, beyond noise" or "contradicts, beyond noise" where the adjusted test rejects no
effect at the declared level (by the effect's sign against the paper's), "cannot tell at this
size" otherwise. Beside each: the paper's figure, the effect with its 95% interval and seed
count, the smallest effect the run could detect, and the data and size it was measured on. A
claim with no result yet says so.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from alexnet.reporting.claims import Claim, Measured, load_claims, read_effect, verdicts
from alexnet.reporting.tables import markdown_table

RESULTS = Path(__file__).resolve().parent / "results"


def result_dir(results: Path, declared: Claim) -> Path:
    if declared.experiment == "ablation":
        return results / f"ablation_{declared.id}"
    return results / declared.experiment


def shown(measured: Measured, value: float | None) -> str:
    """A difference in points of accuracy, a log-ratio as a ratio, a chroma share as is."""
    if value is None:
        return "n/a"
    if measured.scale == "log-ratio":
        return f"{math.exp(value):.2f}x"
    if measured.scale == "chroma share":
        return f"{value:+.4f}"
    return f"{100 * value:+.1f} points"


def detectable(measured: Measured) -> str:
    value = measured.effect.detectable
    if value is None:
        return "n/a (1 seed)"
    if measured.scale == "log-ratio":
        return f"{math.exp(value):.2f}x"
    if measured.scale == "chroma share":
        return f"{value:.4f}"
    return f"{100 * value:.1f} points"


def rows_of(results: Path) -> list[dict[str, object]]:
    analysis, claims = load_claims()
    found = [(c, read_effect(result_dir(results, c))) for c in claims]
    measured = [(c, m) for c, m in found if m is not None]
    judged = dict(zip([c.id for c, _ in measured], verdicts(measured, analysis)))
    rows = []
    for declared, result in found:
        row: dict[str, object] = {"claim": declared.claim, "paper": declared.paper}
        if result is None:
            row.update(
                {
                    "measured (95% CI)": "not measured yet",
                    "seeds": 0,
                    "smallest detectable": "",
                    "data, size": "",
                    "Holm p": "",
                    "verdict": "no result at this commit",
                }
            )
        else:
            effect = result.effect
            interval = (
                f" [{shown(result, effect.low)}, {shown(result, effect.high)}]"
                if effect.low is not None
                else ""
            )
            p_value, verdict = judged[declared.id]
            row.update(
                {
                    "measured (95% CI)": shown(result, effect.mean) + interval,
                    "seeds": effect.n,
                    "smallest detectable": detectable(result),
                    "data, size": f"{result.data}, {result.size}",
                    "Holm p": "n/a" if p_value is None else f"{p_value:.3g}",
                    "verdict": verdict,
                }
            )
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=None, help="default: RESULTS/claims.md")
    args = parser.parse_args(argv)
    out = args.out or args.results / "claims.md"
    text = (
        "# The paper's claims, as measured here\n\nMade by `python experiments/claims.py` "
        "from experiments/claims.yaml (the claims, arms, metrics and analysis, declared "
        "before the runs) and each claim's effect.json under experiments/results/; each "
        "result's own page gives its command, commit, versions and machine. Effects are "
        "treatment - reference (or a ratio), paired by seed, with Student's t 95% interval; "
        "verdicts use Holm's adjustment across the claims measured. The paper's figures for "
        "LRN and pooling are changes of its top-1 and top-5 *error* (negative: fewer "
        "errors); the effects measured here are of validation *accuracy* or of the "
        "overfitting gap, signed so that a positive effect is the paper's direction.\n\n"
        + markdown_table(rows_of(args.results))
    )
    out.write_text(text)
    print(text)
    return out


if __name__ == "__main__":
    main()
