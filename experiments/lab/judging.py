"""The claims judged together: each claim's verdict (verdicts.judge) at the level Holm's step-down
gives it over the whole declared family, with the declared rules for removed and censored seed
pairs."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from experiments.lab.claims import Claim, Measured
from experiments.lab.stats import holm
from experiments.lab.verdicts import Verdict, holm_levels, judge

# Verdicts a larger effect could overturn: a censored pair (entered at its bound toward no
# effect) leaves them undecided.
OVERTURNED_BY_CENSORING = ("contradicts", "no effect within the margin", "smaller than the paper's")


def judged(
    measured: list[tuple[Claim, Measured]], analysis: dict[str, Any], family: int | None = None
) -> list[Verdict | None]:
    """Each claim's verdict (verdicts.judge) at the level Holm's step-down gives it (ordered by
    the paired t p-values against no effect) over the whole declared family: `family` claims
    (default: those given), a claim not measured yet counting as p = 1, so a verdict never
    loosens as results arrive. None for a claim with fewer than 2 seed pairs. A claim whose
    removed pairs exceed the declared share is "cannot tell" whatever its tests say; so is one
    with a censored pair (entered at its bound toward no effect) whose word a larger effect
    could overturn (contradicts, no effect within the margin, smaller than the paper's)."""
    alpha = 1 - float(analysis["confidence"])
    power = float(analysis["power"])
    tested = [i for i, (_, m) in enumerate(measured) if len(m.deltas) >= 2]
    unmeasured = max(0, (family or len(measured)) - len(tested))
    p_values = [_p_t(measured[i][1].deltas) for i in tested] + [1.0] * unmeasured
    levels = dict(zip(tested, holm_levels(p_values, alpha)))
    adjusted = dict(zip(tested, holm(p_values)))
    most_removed = float(analysis.get("max_removed_share", 0.2))
    results: list[Verdict | None] = []
    for index, (declared, found) in enumerate(measured):
        if index not in levels:
            results.append(None)
            continue
        verdict = judge(
            found.deltas,
            declared.direction,
            declared.effect_size,
            declared.margin,
            levels[index],
            p_holm=adjusted[index],
            power=power,
        )
        share = len(found.removed) / (len(found.removed) + len(found.deltas))
        if share > most_removed:
            verdict = replace(
                verdict,
                word="cannot tell",
                why=f"{len(found.removed)} of {len(found.removed) + len(found.deltas)} seed "
                f"pairs removed (failed or diverged runs), above the declared {most_removed:g}",
            )
        elif found.censored and (
            verdict.word in OVERTURNED_BY_CENSORING or verdict.smaller_than_paper
        ):
            bound = (
                f"{len(found.censored)} censored seed pair(s) entered at a bound "
                f"({next(iter(found.censored.values()))}): the true effect may be larger"
            )
            if verdict.word == "agrees":  # the direction stands; "smaller" may not
                verdict = replace(verdict, smaller_than_paper=False, why=bound)
            else:
                verdict = replace(
                    verdict,
                    word="cannot tell",
                    smaller_than_paper=False,
                    why=f"{bound} than the {verdict.word!r} this reading gives",
                )
        results.append(verdict)
    return results


def _p_t(deltas: list[float]) -> float:
    """The paired t test's two-sided p against no effect (0 or 1 where the pairs do not vary)."""
    from scipy import stats

    mean = math.fsum(deltas) / len(deltas)
    if all(d == deltas[0] for d in deltas):
        return 0.0 if mean != 0 else 1.0
    return float(stats.ttest_1samp(deltas, 0.0).pvalue)
