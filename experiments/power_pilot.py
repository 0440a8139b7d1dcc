"""Size each ablation claim's seeds from a pilot, by the rule declared before the pilot runs.

    python experiments/power_pilot.py [--size cpu|tiny] [--out DIR]
    python experiments/power_pilot.py --report DIR [--out OUT]   # re-make the page

Reads experiments/declarations/power_pilot_v1.yaml (the claims, the pilot seeds and the rule),
trains every arm of those claims once per pilot seed (ablation.py's overrides at the size) and
applies the rule in `plan`: the paired SD of each claim's per-seed differences sizes its seeds
to detect its declared effect at 80% power at the strictest Holm level, no fewer than the exact
sign-flip test needs, within the per-claim budget (claims.yaml). Writes pilot.md, pilot.json,
runs.json and provenance.json. `--size tiny` is for the tests: nothing is sized from it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ablation  # noqa: E402 - the experiments' own script, beside this one

from alexnet.reporting.claims import CLAIMS_FILE, Claim, load_claims  # noqa: E402
from alexnet.reporting.harness import output_dir, report_dirs  # noqa: E402
from alexnet.reporting.provenance import (  # noqa: E402
    collect,
    git_state,
    provenance_markdown,
    read_provenance,
    write_provenance,
)
from alexnet.reporting.runs import Run, launch_multirun, load_runs, write_summary  # noqa: E402
from alexnet.reporting.tables import markdown_table  # noqa: E402
from alexnet.reporting.verdicts import seeds_for_power  # noqa: E402

DECLARATION = Path(__file__).resolve().parent / "declarations" / "power_pilot_v1.yaml"
MAX_SEEDS = 1000  # seeds_for_power's search: beyond it, "over 1000"


def declared() -> dict[str, Any]:
    return yaml.safe_load(DECLARATION.read_text())


def exact_seeds(level: float) -> int:
    """The fewest seeds whose exact two-sided sign-flip p can be below `level` (2 / 2^n)."""
    return next(n for n in range(2, 64) if 2 / 2**n < level)


def pilot_measures(declared_claim: Claim, runs: list[Run]) -> dict[str, Any]:
    """One claim's pilot: its per-seed differences (the claim's metric, ablation.py's rule
    for failed runs) and the minutes a seed pair costs."""
    result = ablation.measure(declared_claim, runs, "pilot")
    minutes = []
    for arm in (declared_claim.reference, declared_claim.treatment):
        times = [
            r.record["wall_time_s"]
            for r in runs
            if ablation.arm_of(r) == arm and r.record.get("status") == "completed"
        ]
        minutes.append(sum(times) / len(times) / 60 if times else math.nan)
    deltas = result.deltas if result else []
    sd = statistics_sd(deltas)
    return {
        "deltas": deltas,
        "removed": result.removed if result else {},
        "sd": sd,
        "pair_minutes": sum(minutes),
    }


def statistics_sd(values: list[float]) -> float | None:
    if len(values) < 3:
        return None
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def plan(
    measures: dict[str, dict[str, Any]],
    claims: dict[str, Claim],
    alpha: float,
    count: int,
    budget_min: float,
    validation_share: float,
) -> dict[str, dict[str, Any]]:
    """The declared rule per claim: n_power, n_exact, n, n_budget (and shrunk), the seeds."""
    level = alpha / count
    n_exact = exact_seeds(level)
    known = [m["pair_minutes"] for m in measures.values() if math.isfinite(m["pair_minutes"])]
    rows = {}
    for claim_id, found in measures.items():
        declared_claim, sd = claims[claim_id], found["sd"]
        n_power = (
            seeds_for_power(sd, declared_claim.effect_size, level, max_n=MAX_SEEDS)
            if sd is not None and sd > 0
            else None
        )
        if sd is not None and sd > 0 and n_power is None:
            n_power = MAX_SEEDS + 1  # more than MAX_SEEDS: reported as such
        pair = found["pair_minutes"]
        if not math.isfinite(pair):  # no completed run in an arm: the others' mean cost
            pair = sum(known) / len(known) if known else math.inf
        budget = math.floor(budget_min / pair) if math.isfinite(pair) else 0
        needed = max(n_power or n_exact, n_exact)
        shrunk = False
        if sd is None:  # fewer than 3 pilot pairs: as many seeds as the budget allows
            needed = budget
        if needed > budget:
            shrunk = True
            budget = math.floor(budget_min / (pair * (1 - validation_share)))
            if sd is None:
                needed = budget
        rows[claim_id] = {
            "level": level,
            "sd": sd,
            "n_power": n_power,
            "n_exact": n_exact,
            "n_needed": needed,
            "n_budget": budget,
            "shrunk": shrunk,
            "seeds": min(needed, budget),
        }
    return rows


def validation_share(runs: list[Run]) -> float:
    """The share of a run's time the validations before its last take (the shrunk run
    validates once), from the runs' histories (each epoch's validation_s)."""
    shares = []
    for run in runs:
        seconds = [e["validation_s"] for e in run.history if "validation_s" in e]
        if seconds and run.record.get("wall_time_s"):
            shares.append(math.fsum(seconds[:-1]) / run.record["wall_time_s"])
    return sum(shares) / len(shares) if shares else 0.0


def seeds_shown(count: int | None) -> object:
    if count is None:
        return "n/a"
    return f"over {MAX_SEEDS}" if count > MAX_SEEDS else count


def write_page(out: Path, runs: list[Run], spec: dict[str, Any], size: str) -> dict[str, Any]:
    analysis, claims = load_claims()
    by_id = {c.id: c for c in claims}
    budget = yaml.safe_load(CLAIMS_FILE.read_text())["sizes"]["cpu"]["budget_min"]
    measures = {c: pilot_measures(by_id[c], runs) for c in spec["claims"]}
    planned = plan(
        measures,
        by_id,
        1 - float(analysis["confidence"]),
        len(claims),
        budget,
        validation_share(runs),
    )
    (out / "pilot.json").write_text(
        json.dumps({"plan": planned, "measures": measures}, indent=1) + "\n"
    )
    rows = [
        {
            "claim": claim_id,
            "declared effect": by_id[claim_id].effect_size,
            "pilot pairs": len(measures[claim_id]["deltas"]),
            "pilot SD": row["sd"],
            "level": row["level"],
            "seeds for 80% power": seeds_shown(row["n_power"]),
            "seeds the exact test needs": row["n_exact"],
            "seed pair (min)": measures[claim_id]["pair_minutes"],
            "seeds in budget": row["n_budget"],
            "validation at the end only": "yes" if row["shrunk"] else "no",
            "seeds to run": row["seeds"],
            "seeds needed": seeds_shown(row["n_needed"]),
        }
        for claim_id, row in planned.items()
    ]
    note = " (the tests' tiny size: nothing is sized from it)" if size == "tiny" else ""
    (out / "pilot.md").write_text(
        f"# Power pilot, {DECLARATION.name}{note}\n\n"
        + provenance_markdown(read_provenance(out))
        + "\nEach claim's paired SD over the pilot seeds sizes its seeds (the rule in "
        f"experiments/declarations/{DECLARATION.name}, committed before the pilot). Where the "
        "seeds needed exceed the seeds in budget, the claim runs those in budget and its page "
        "says how many it would need.\n\n" + markdown_table(rows)
    )
    return planned


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("cpu", "tiny"), default="cpu")
    parser.add_argument("--out")
    parser.add_argument("--report", type=Path, help="re-make the page of this dir; no training")
    args = parser.parse_args(argv)
    spec = declared()
    if args.report:
        source, out = report_dirs(args, "power_pilot")
        write_page(out, load_runs(source), spec, read_provenance(out).get("size", "cpu"))
        return out
    _, claims = load_claims()
    by_id = {c.id: c for c in claims}
    arms = sorted({arm for c in spec["claims"] for arm in (by_id[c].reference, by_id[c].treatment)})
    out = output_dir("power_pilot", args.out)
    git, started = git_state(exclude=out), time.perf_counter()
    seeds = spec["seeds"] if args.size == "cpu" else spec["seeds"][:2]
    launch_multirun(
        [
            *ablation.arm_overrides(args.size),
            f"ablation={','.join(arms)}",
            f"seed={','.join(str(s) for s in seeds)}",
        ],
        out / "sweep",
    )
    runs = load_runs(out / "sweep")
    write_summary(runs, out)
    record = collect(seeds, time.perf_counter() - started, git=git, out=out)
    write_provenance(out, {**record, "size": args.size, "declaration": DECLARATION.name})
    print(json.dumps(write_page(out, runs, spec, args.size), indent=1))
    return out


if __name__ == "__main__":
    main()
