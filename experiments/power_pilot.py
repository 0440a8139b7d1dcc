"""Size the ablation claims' shared sweep from its first seeds, by the rule declared before any
of its runs (experiments/declarations/power_pilot_v1.yaml).

    python -m experiments.power_pilot [--sweep DIR]

Reads the shared sweep's runs (experiments/ablation_all.py; default DIR:
experiments/results/ablation), keeps the pilot seeds, and applies the rule in `plan`: each
claim's paired SD over those seeds sizes its seeds to detect its declared effect at 80% power at
the strictest Holm level, no fewer than the exact sign-flip test needs; the sweep runs the
largest of these within the claims' shared budget. Writes DIR/pilot.md and DIR/pilot.json. No
training: the pilot's runs are the sweep's own first seeds.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import yaml

from alexnet.tables import markdown_table
from experiments import ablation
from experiments.lab.claims import CLAIMS_FILE, Claim, load_claims
from experiments.lab.runs import Run, load_runs
from experiments.lab.verdicts import seeds_for_power

DECLARATION = Path(__file__).resolve().parent / "declarations" / "power_pilot_v1.yaml"
SWEEP = Path(__file__).resolve().parent / "results" / "ablation"
MAX_SEEDS = 1000  # seeds_for_power's search: beyond it, "over 1000"


def declared() -> dict[str, Any]:
    return yaml.safe_load(DECLARATION.read_text())


def exact_seeds(level: float) -> int:
    """The fewest seeds whose exact two-sided sign-flip p can be below `level` (2 / 2^n)."""
    return next(n for n in range(2, 64) if 2 / 2**n < level)


def sd_of(values: list[float]) -> float | None:
    """The sample SD of 3 or more values (None below: too few to size anything)."""
    if len(values) < 3:
        return None
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def seed_minutes(runs: list[Run]) -> float:
    """One more seed of the shared sweep: each arm's mean run minutes, summed over the arms."""
    by_arm: dict[str, list[float]] = {}
    for run in runs:
        if run.record.get("status") == "completed":
            by_arm.setdefault(ablation.arm_of(run), []).append(run.record["wall_time_s"] / 60)
    return math.fsum(sum(t) / len(t) for t in by_arm.values())


def validation_share(runs: list[Run]) -> float:
    """The share of a run's time the validations before its last take (the shrunk run
    validates once), from the runs' histories (each epoch's validation_s)."""
    shares = []
    for run in runs:
        seconds = [e["validation_s"] for e in run.history if "validation_s" in e]
        if seconds and run.record.get("wall_time_s"):
            shares.append(math.fsum(seconds[:-1]) / run.record["wall_time_s"])
    return sum(shares) / len(shares) if shares else 0.0


def plan(
    sds: dict[str, float | None],
    claims: dict[str, Claim],
    alpha: float,
    count: int,
    budget_minutes: float,
    minutes: float,
    validation: float,
) -> dict[str, Any]:
    """The declared rule: per claim n_power, n_exact and n; the shared budget (shrunk if the
    largest n exceeds it) and N, the seeds every one of these claims is analysed on."""
    level = alpha / count
    n_exact = exact_seeds(level)
    budget = math.floor(budget_minutes / minutes) if minutes > 0 else 0
    rows: dict[str, dict[str, Any]] = {}
    for claim_id, sd in sds.items():
        n_power = None
        if sd is not None and sd > 0:
            found = seeds_for_power(sd, claims[claim_id].effect_size, level, max_n=MAX_SEEDS)
            n_power = found if found is not None else MAX_SEEDS + 1
        rows[claim_id] = {"sd": sd, "n_power": n_power, "n": max(n_power or n_exact, n_exact)}
    shrunk = False
    if any(row["sd"] is None for row in rows.values()):  # too few pilot pairs: the budget's
        for row in rows.values():
            row["n"] = row["n"] if row["sd"] is not None else budget
    largest = max(row["n"] for row in rows.values())
    if largest > budget:
        shrunk = True
        budget = math.floor(budget_minutes / (minutes * (1 - validation))) if minutes > 0 else 0
    return {
        "level": level,
        "n_exact": n_exact,
        "claims": rows,
        "budget": budget,
        "shrunk": shrunk,
        "seeds": min(largest, budget),
    }


def seeds_shown(count: int | None) -> object:
    if count is None:
        return "n/a"
    return f"over {MAX_SEEDS}" if count > MAX_SEEDS else count


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, default=SWEEP, help="the shared sweep's dir")
    args = parser.parse_args(argv)
    spec = declared()
    analysis, claims = load_claims()
    by_id = {c.id: c for c in claims}
    runs = [r for r in load_runs(args.sweep) if ablation.seed_of(r) in spec["seeds"]]
    sds = {}
    pairs = {}
    for claim_id in spec["claims"]:
        result = ablation.measure(by_id[claim_id], runs, spec["size"], spec["seeds"])
        pairs[claim_id] = result.deltas if result else []
        sds[claim_id] = sd_of(pairs[claim_id])
    per_claim = yaml.safe_load(CLAIMS_FILE.read_text())["sizes"]["cpu"]["budget_min"]
    minutes, validation = seed_minutes(runs), validation_share(runs)
    planned = plan(
        sds,
        by_id,
        1 - float(analysis["confidence"]),
        len(claims),
        per_claim * len(spec["claims"]),
        minutes,
        validation,
    )
    record = {**planned, "seed_minutes": minutes, "validation_share": validation, "pairs": pairs}
    (args.sweep / "pilot.json").write_text(json.dumps(record, indent=1) + "\n")
    rows = [
        {
            "claim": claim_id,
            "declared effect": by_id[claim_id].effect_size,
            "pilot pairs": len(pairs[claim_id]),
            "pilot SD": row["sd"],
            "seeds for 80% power": seeds_shown(row["n_power"]),
            "seeds it asks (at least the exact test's)": seeds_shown(row["n"]),
            "seeds it gets": planned["seeds"],
        }
        for claim_id, row in planned["claims"].items()
    ]
    (args.sweep / "pilot.md").write_text(
        f"# Power pilot of the ablation claims ({DECLARATION.name})\n\n"
        f"The shared sweep's seeds {spec['seeds']} (its first), by the rule declared in "
        f"experiments/declarations/{DECLARATION.name} before any of its runs: level "
        f"{planned['level']:.4g} (alpha / {len(claims)}), the exact test's "
        f"{planned['n_exact']} seeds at least, one more seed of the sweep "
        f"{minutes:.1f} min on this machine, so {planned['budget']} seeds fit the claims' "
        f"{per_claim * len(spec['claims'])} minutes"
        + (" with validation at the last epoch only" if planned["shrunk"] else "")
        + f". The sweep runs **{planned['seeds']} seeds**.\n\n"
        + markdown_table(rows)
    )
    print(json.dumps(record, indent=1))
    return args.sweep


if __name__ == "__main__":
    main()
