"""What ReLU against tanh (experiments/relu_vs_tanh.py) reads from its runs: the training error of
each probe, the steps to the target error, dead units; the rate each activation keeps from the
learning-rate sweep, and its rows over the fresh seeds."""

from __future__ import annotations

import math

from experiments.lab.runs import Run
from experiments.lab.stats import mean_ci

ACTIVATIONS = ("relu", "tanh")


def training_errors(run: Run) -> list[tuple[int, float]]:
    """(step, training error) of each probe, the first before any training."""
    return [(entry["step"], entry["train_error"]) for entry in run.record.get("probe", [])]


def steps_to(points: list[tuple[int, float]], target: float) -> float | None:
    """Steps (linearly interpolated between probes) until the training error first reaches
    `target`; None if it never does."""
    previous: tuple[int, float] | None = None
    for step, error in points:
        if error <= target:
            if previous is None:
                return float(step)
            (step0, error0) = previous
            return step0 + (step - step0) * (error0 - target) / max(error0 - error, 1e-12)
        previous = (step, error)
    return None


def mean_error(run: Run, horizon_steps: int) -> float | None:
    """The area under the training-error curve from step 0 to `horizon_steps` (trapezoid over
    the probes), divided by the span: the mean training error over the run, a speed measure that
    needs no crossing. None for a run that ended before the horizon (stopped, failed)."""
    points = training_errors(run)
    if not points or points[-1][0] < horizon_steps or horizon_steps <= 0:
        return None
    area = 0.0
    for (step0, error0), (step1, error1) in zip(points, points[1:]):
        end = min(step1, horizon_steps)
        if end <= step0:
            break
        at_end = error0 + (error1 - error0) * (end - step0) / (step1 - step0)
        area += (end - step0) * (error0 + at_end) / 2
    return area / horizon_steps


def horizon_steps(run: Run) -> int:
    """The steps of the run's full horizon: steps per epoch x its max_epochs."""
    return steps_per_epoch(run) * int(run.config.get("trainer", {}).get("max_epochs", 0))


def paired_steps(
    runs: list[Run], target: float, reference: str = "relu", treatment: str = "tanh"
) -> tuple[dict[int, dict[str, float]], dict[int, str], dict[int, str]]:
    """Per training seed, each activation's steps to `target`: (steps, censored, removed).
    A treatment run that completed its horizon without reaching the target enters at the
    horizon (a lower bound on the ratio: censored); a reference run that never reached it, a
    failed or diverged run, or a missing arm removes its pair (removed: seed -> why); a run with
    a dead layer stays in (claims.yaml's runs rule: its arm is flagged on the page)."""
    by_seed: dict[int, dict[str, Run]] = {}
    for run in runs:
        by_seed.setdefault(int(run.config["seed"]), {})[activation(run)] = run
    steps: dict[int, dict[str, float]] = {}
    censored: dict[int, str] = {}
    removed: dict[int, str] = {}
    for seed, arms in sorted(by_seed.items()):
        if {reference, treatment} - set(arms):
            removed[seed] = "an arm has no run"
            continue
        if any(arms[name].record.get("status") == "failed" for name in (reference, treatment)):
            removed[seed] = "a run failed or diverged"  # a dead layer stays in: it is flagged
            continue
        mine = {name: steps_to(training_errors(arms[name]), target) for name in arms}
        if mine[reference] is None:
            removed[seed] = f"{reference} never reached the target"
            continue
        if mine[reference] <= 0:
            removed[seed] = f"{reference} started at the target: no speed to compare"
            continue
        if mine[treatment] is None:
            span = horizon_steps(arms[treatment])
            if not span or training_errors(arms[treatment])[-1][0] < span:
                removed[seed] = f"{treatment} stopped before its horizon"
                continue
            mine[treatment] = float(span)
            censored[seed] = f"{treatment} never reached the target: entered at the horizon"
        steps[seed] = {name: float(value) for name, value in mine.items() if value is not None}
    return steps, censored, removed


def steps_per_epoch(run: Run) -> int:
    """Optimizer steps in one epoch: from the synthetic task's size and the batch (a run that
    stopped at its target within the first epoch has no whole epoch to count), else the global
    step after the first epoch."""
    data = run.config.get("data") or {}
    if all(data.get(k) for k in ("train_per_class", "num_classes", "batch_size")):
        images = int(data["train_per_class"]) * int(data["num_classes"])
        return math.ceil(images / int(data["batch_size"]))  # the last batch is kept
    return int(run.history[0]["step"]) if run.history else 0


def final_dead(run: Run) -> dict[str, float]:
    """The fraction of dead units per activation layer at the last probe."""
    probes = run.record.get("probe") or [{}]
    return probes[-1].get("dead", {})


def is_dead(run: Run) -> bool:
    """Diverged (a failed run: the loss went NaN), every unit of some layer dead, or logits that
    no longer depend on the input, at the end."""
    if run.record.get("status") == "failed":
        return True
    probes = run.record.get("probe") or []
    if not probes:
        return False
    dead = probes[-1].get("dead", {})
    return (bool(dead) and max(dead.values()) >= 1.0) or probes[-1].get("logit_spread", 1) < 1e-6


def dead_text(run: Run) -> str:
    return " / ".join(f"{value:.2f}" for value in final_dead(run).values())


def stage(run: Run) -> str:
    return str(run.path.parent)


def activation(run: Run) -> str:
    return run.config["activation"]["name"]


def learning_rate(run: Run) -> float:
    return float(run.config["optimizer"]["lr"])


def choose_rates(
    sweep: list[Run], target: float, strict: bool = False
) -> tuple[dict[str, float], list[dict]]:
    """Each activation's rate whose slower sweep seed reaches `target` in the fewest steps (a
    rate where a seed died or missed counts as never; ties: the lower worst final error; no
    rate reached by every seed: the lowest worst final error among rates with no dead seed, or,
    `strict` (a declared regime's rule), no rate at all), and the sweep's table, one row per
    run, with the dead-unit fractions (act1 / act2 / ... at the end) beside each rate."""
    table, worst = [], {}
    for run in sweep:
        errors = training_errors(run)
        steps = steps_to(errors, target)
        final = errors[-1][1] if errors else 1.0
        name, dead = activation(run), is_dead(run)
        key = (name, learning_rate(run))
        slowest = math.inf if dead or steps is None else steps
        seen = worst.get(key, (0.0, 0.0, False))
        worst[key] = (max(seen[0], slowest), max(seen[1], final), seen[2] or dead)
        per_epoch = steps_per_epoch(run)
        table.append(
            {
                "activation": name,
                "lr": learning_rate(run),
                "seed": run.config["seed"],
                f"steps_to_{target:g}_train_error": _round(steps),
                f"epochs_to_{target:g}_train_error": _round(
                    steps / per_epoch if steps is not None and per_epoch else None
                ),
                "final_train_error": round(final, 4),
                "dead_units_at_end": dead_text(run),
                "run": "dead" if dead else "reached" if steps is not None else "not reached",
            }
        )
    best: dict[str, tuple[tuple[float, float], float]] = {}
    for (name, lr), (slowest, final, dead) in worst.items():
        if dead or (strict and slowest == math.inf):
            continue
        if name not in best or (slowest, final) < best[name][0]:
            best[name] = ((slowest, final), lr)
    chosen = {name: lr for name, (_, lr) in best.items()}
    for row in table:
        rates = [r["lr"] for r in table if r["activation"] == row["activation"]]
        edge = row["lr"] in (min(rates), max(rates)) and len(set(rates)) > 2
        note = " (the grid's edge: a rate beyond it may be faster)" if edge else ""
        row["chosen"] = "yes" + note if chosen.get(row["activation"]) == row["lr"] else ""
    return chosen, table


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def seed_rows(runs: list[Run], target: float) -> tuple[list[dict], dict[int, dict[str, float]]]:
    """One row per activation (steps and epochs to target, mean ± CI over seeds), and steps to
    target per training seed."""
    per_seed: dict[int, dict[str, float]] = {}
    rows = []
    for name in ACTIVATIONS:
        mine = [r for r in runs if activation(r) == name]
        if not mine:
            continue
        steps = [None if is_dead(r) else steps_to(training_errors(r), target) for r in mine]
        for run, value in zip(mine, steps):
            if value is not None:
                per_seed.setdefault(int(run.config["seed"]), {})[name] = value
        reached = [(s, steps_per_epoch(r)) for s, r in zip(steps, mine) if s is not None]
        finals = [training_errors(r)[-1][1] for r in mine if training_errors(r)]
        rows.append(
            {
                "activation": name,
                "lr": learning_rate(mine[0]),
                "seeds": len(mine),
                f"steps_to_{target:g}_train_error": str(mean_ci([s for s, _ in reached]))
                if reached
                else "not reached",
                f"epochs_to_{target:g}_train_error": str(mean_ci([s / e for s, e in reached]))
                if reached
                else "not reached",
                "reached_in": f"{len(reached)} of {len(mine)}",
                "dead_runs": sum(is_dead(r) for r in mine),
                "final_train_error": str(mean_ci(finals)) if finals else None,
                "epochs_run": len(mine[0].history),
            }
        )
    return rows, per_seed
