"""The runs localization (experiments/localization.py) measures with `--sweep DIR`: the shared
ablation sweep's `full` arm (experiments/declarations/localization_v2.yaml), every seed it ran,
each from its job dir's final checkpoint; a seed whose job dir is gone (the sweeps are not
committed) is trained again with the arm's own recorded overrides, only its seed changed."""

from __future__ import annotations

import json
from pathlib import Path

from alexnet.run.checkpoints import resolve_checkpoint
from experiments.lab.runs import Run, launch_multirun, load_runs

ARM = "full"


def _arm(job: dict) -> str | None:
    found = [
        o.split("=", 1)[1] for o in job["record"].get("overrides", []) if o.startswith("ablation=")
    ]
    return job["record"].get("choices", {}).get("ablation") or (found[-1] if found else None)


def recorded(sweep: Path) -> dict[int, dict]:
    """The `full` arm's jobs in the sweep's runs.json, by seed: config and record; one line if
    the folder holds no runs.json."""
    if not (sweep / "runs.json").is_file():
        raise SystemExit(
            f"error: --sweep={sweep}: no runs.json there (the shared ablation sweep's)"
        )
    jobs = json.loads((sweep / "runs.json").read_text())
    return {int(job["config"]["seed"]): job for job in jobs if _arm(job) == ARM}


def on_disk(sweep: Path) -> dict[int, Run]:
    """The `full` arm's job dirs still under sweep/sweeps/*/ with a checkpoint, by seed."""
    found: dict[int, Run] = {}
    for part in sorted((sweep / "sweeps").glob("*")) if (sweep / "sweeps").is_dir() else []:
        try:
            runs = load_runs(part)
        except FileNotFoundError:  # a part with no finished job
            continue
        for run in runs:
            if _arm({"record": run.record}) != ARM:
                continue
            try:
                resolve_checkpoint(run.path)
            except (FileNotFoundError, ValueError):
                continue
            found[int(run.config["seed"])] = run
    return found


def retrain_overrides(job: dict, seeds: list[int]) -> list[str]:
    """The job's own command-line overrides with its seed replaced by `seeds` (a multirun)."""
    kept = [o for o in job["record"]["overrides"] if not o.startswith(("seed=", "hydra."))]
    return [*kept, f"seed={','.join(map(str, seeds))}"]


def gather(
    sweep: Path, out: Path, task: str | None = None
) -> tuple[list[Run], list[int], dict[str, str]]:
    """Every completed `full` run of the sweep, each with its checkpoint: (runs by seed, the
    seeds trained again here, the seeds removed and why: a failed or diverged run). With
    `task` (the declared one), a sweep trained on another is refused in one line."""
    jobs = recorded(sweep)
    if not jobs:
        raise SystemExit(f"error: --sweep={sweep}: its runs.json has no `{ARM}` arm runs")
    other = sorted({str(j["record"].get("task")) for j in jobs.values()} - {str(task)})
    if task is not None and other:
        raise SystemExit(
            f"error: --sweep={sweep}: its `{ARM}` runs trained on {', '.join(other)}; the "
            f"declared protocol measures {task} (experiments/declarations/localization_v2.yaml)"
        )
    removed = {
        str(seed): f"{ARM}: {job['record'].get('status')}"
        for seed, job in jobs.items()
        if job["record"].get("status") != "completed"
    }
    wanted = sorted(seed for seed in jobs if str(seed) not in removed)
    present = on_disk(sweep)
    missing = [seed for seed in wanted if seed not in present]
    if missing:
        launch_multirun(retrain_overrides(jobs[missing[0]], missing), out / "retrained")
        for run in load_runs(out / "retrained"):
            if run.record.get("status") == "completed":
                present[int(run.config["seed"])] = run
            else:
                removed[str(run.config["seed"])] = f"{ARM} (trained again): failed"
    return [present[s] for s in wanted if s in present], missing, removed
