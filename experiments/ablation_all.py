"""Every ablation claim at once: the union of their arms, each run once per seed and shared by
the claims that name it (full serves pooling, dropout and the placebo; augment serves PCA and
augmentation), so a seed costs 8 runs for 6 claims instead of 12.

    python -m experiments.ablation_all --seeds A B [--size cpu|tiny] [--out DIR]
    python -m experiments.ablation_all --report DIR     # re-make every claim's folder

Each call trains seeds A..B (a part; parts add up across calls, each in DIR/sweeps/A-B/, which
is never committed: the earlier parts are read from DIR/runs.json, which keeps every part's
runs under its name), then writes DIR/runs.json and DIR/parts.json (each part's command, commit,
seeds and wall time) and re-makes each claim's folder DIR/<claim>/ from every part so far: its
two arms' runs.json and provenance.json, then ablation.py's report (ablation.md/.csv/.png and
effect.json, which experiments/claims.py reads). Default DIR: experiments/results/ablation.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from experiments import ablation
from experiments.lab.claims import Claim, claim
from experiments.lab.provenance import collect, git_state, write_provenance
from experiments.lab.runs import Run, launch_multirun, load_runs, write_summary

RESULTS = Path(__file__).resolve().parent / "results" / "ablation"
PARTS = "parts.json"


def arms_of(claim_ids: tuple[str, ...]) -> list[str]:
    """The arms the claims name, each once."""
    declared = [claim(c) for c in claim_ids]
    return sorted({arm for c in declared for arm in (c.reference, c.treatment)})


def shared_overrides(claims: list[Claim], size: str) -> list[str]:
    """The overrides the claims declare at `size` (a shrunk run, from their power pilot): the
    same for every claim of the shared sweep, or SystemExit naming the claims that differ."""
    declared = {c.id: tuple(c.overrides.get(size, [])) for c in claims}
    if len(set(declared.values())) > 1:
        raise SystemExit(
            f"error: the claims of the shared sweep declare different overrides at --size {size}: "
            + "; ".join(f"{c}: {list(o)}" for c, o in declared.items())
        )
    return list(next(iter(declared.values()), ()))


def runs_by_part(out: Path, part: str) -> dict[str, list[Run]]:
    """Every part's runs: the earlier parts' from out/runs.json (as committed: their sweeps are
    not), this part's from its sweep dir; keyed by part, which their job names keep."""
    parts: dict[str, list[Run]] = {}
    if (out / "runs.json").is_file():
        for run in load_runs(out):
            parts.setdefault(str(run.path.parent), []).append(run)
    parts[part] = load_runs(out / "sweeps" / part)
    return parts


def combined_provenance(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One record for the parts: the first part's command and commit, every seed, the summed
    wall time, dirty if any part was, and the parts themselves (their commits may differ)."""
    first = parts[0]
    return {
        **first,
        "seeds": sorted({s for p in parts for s in p["seeds"]}),
        "wall_time_s": round(sum(p["wall_time_s"] for p in parts), 1),
        "dirty": any(p["dirty"] for p in parts),
        "parts": [
            {k: p[k] for k in ("command", "commit", "dirty", "seeds", "wall_time_s")} for p in parts
        ],
    }


def remake(out: Path, runs: list[Run], parts: list[dict[str, Any]], size: str) -> list[Path]:
    """Each claim's folder out/<claim>/ from the shared runs: its arms' runs and the report."""
    made = []
    for claim_id in ablation.CLAIM_IDS:
        declared = claim(claim_id)
        mine = [r for r in runs if ablation.arm_of(r) in (declared.reference, declared.treatment)]
        folder = out / claim_id
        folder.mkdir(parents=True, exist_ok=True)
        write_summary(mine, folder)
        write_provenance(folder, {**combined_provenance(parts), "claim": claim_id, "size": size})
        ablation.report(folder, folder, claim_id)
        made.append(folder)
    return made


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, metavar=("FIRST", "LAST"))
    parser.add_argument("--size", choices=("cpu", "tiny"), default="cpu")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--report", type=Path, help="re-make every claim's folder; no training")
    args = parser.parse_args(argv)
    if args.report:
        out = args.report
        parts = json.loads((out / PARTS).read_text())
        runs = load_runs(out)  # its runs.json
        remake(out, runs, parts, parts[0].get("size", "cpu"))
        return out
    if not args.seeds or args.seeds[0] > args.seeds[1] or args.seeds[0] < 0:
        parser.error("--seeds FIRST LAST is required: 0 <= FIRST <= LAST")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    first, last = args.seeds
    seeds = list(range(first, last + 1))
    git, started = git_state(exclude=out), time.perf_counter()
    part = f"{first:04d}-{last:04d}"
    launch_multirun(
        [
            *ablation.arm_overrides(args.size),
            *shared_overrides([claim(c) for c in ablation.CLAIM_IDS], args.size),
            f"ablation={','.join(arms_of(ablation.CLAIM_IDS))}",
            f"seed={','.join(str(s) for s in seeds)}",
        ],
        out / "sweeps" / part,
    )
    parts_file = out / PARTS
    parts = json.loads(parts_file.read_text()) if parts_file.is_file() else []
    record = collect(seeds, time.perf_counter() - started, git=git, out=out)
    parts.append({**record, "size": args.size})
    parts_file.write_text(json.dumps(parts, indent=1) + "\n")
    write_summary(runs_by_part(out, part), out)
    remake(out, load_runs(out), parts, args.size)
    return out


if __name__ == "__main__":
    main()
