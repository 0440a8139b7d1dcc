"""The pages of ReLU against tanh (experiments/relu_vs_tanh.py): the regime each candidate met or
missed (regime.md), the learning-rate sweep, the seeds' rows, the two speed ratios beside the
paper's 6x and effect.json, and Figure 1's curves; re-made from the runs alone."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from alexnet.tables import markdown_table, write_table
from experiments.lab.provenance import provenance_markdown, read_provenance
from experiments.lab.runs import Run, load_runs
from experiments.relu_regime import Regime, failures
from experiments.relu_vs_tanh_ratio import (
    area_line,
    area_ratios,
    ratio_line,
    write_relu_effect,
)
from experiments.relu_vs_tanh_runs import (
    activation,
    choose_rates,
    learning_rate,
    paired_steps,
    seed_rows,
    stage,
    steps_per_epoch,
    training_errors,
)

SWEEP = "lr_sweep"  # a candidate's sweep: lr_sweep_<k>, its edge rates lr_sweep_<k>_edge


def sweep_stages(runs: list[Run]) -> dict[int, list[Run]]:
    """The sweep runs per candidate (1-based), from their stage names."""
    found: dict[int, list[Run]] = {}
    for run in runs:
        name = stage(run)
        if name.startswith(SWEEP):
            index = int(name[len(SWEEP) + 1 :].split("_")[0])
            found.setdefault(index, []).append(run)
    return found


def curves_figure(runs: list[Run], target: float) -> Figure:
    """Training error (eval mode, un-augmented) against epochs, each seed a thin line (the
    paper's Figure 1)."""
    figure = Figure(figsize=(7, 4.8))
    axes = figure.subplots()
    styles = {"relu": ("-", "tab:blue"), "tanh": ("--", "tab:orange")}
    labelled = set()
    for run in runs:
        name = activation(run)
        points, per_epoch = training_errors(run), steps_per_epoch(run) or 1
        style, colour = styles.get(name, (":", "grey"))
        label = f"{name} (lr {learning_rate(run):g})" if name not in labelled else None
        labelled.add(name)
        axes.plot(
            [step / per_epoch for step, _ in points],
            [error for _, error in points],
            style,
            color=colour,
            lw=1,
            label=label,
        )
    axes.axhline(target, color="grey", lw=0.8)
    axes.set_xlabel("epochs")
    axes.set_ylabel("training error rate (eval mode, no augmentation)")
    axes.set_ylim(0, 1)
    axes.set_title("ReLU against tanh (Krizhevsky et al. 2012, Figure 1)")
    axes.legend()
    figure.tight_layout()
    return figure


def regime_of(record: dict) -> Regime:
    """The regime a run recorded in its provenance (lists back to tuples); one line for runs
    made before a regime was declared (claims version 1: their archived page stays)."""
    if "regime" not in record:
        raise SystemExit(
            "error: these runs record no regime (made before declarations/relu_regime_v1.yaml); "
            "their report is the one archived beside them"
        )
    fields = record["regime"]
    return Regime(
        **{
            **fields,
            "setup": tuple(fields["setup"]),
            "candidates": tuple((n, tuple(o)) for n, o in fields["candidates"]),
            "rates": tuple(fields["rates"]),
            "sweep_seeds": tuple(fields["sweep_seeds"]),
            "seeds": tuple(fields["seeds"]),
            "probe": tuple(fields["probe"]),
        }
    )


def regime_page(regime: Regime, sweeps: dict[int, list[Run]]) -> tuple[str, list[dict], int]:
    """regime.md's text, the chosen candidate's sweep table and its index (0: none)."""
    rows, chosen_index, tables = [], 0, {}
    for index, (name, overrides) in enumerate(regime.candidates, start=1):
        runs = sweeps.get(index)
        if runs is None:
            rows.append({"candidate": name, "overrides": " ".join(overrides), "result": "not run"})
            continue
        kept, table = choose_rates(runs, regime.target, regime.enforced)
        why = failures(runs, kept, regime)
        tables[index] = table
        if not chosen_index and (not why or (not regime.enforced and len(kept) == 2)):
            chosen_index = index
        rows.append(
            {
                "candidate": name,
                "overrides": " ".join(overrides),
                "kept rates": ", ".join(f"{a} {r:g}" for a, r in sorted(kept.items())),
                "result": "qualifies" if not why else "; ".join(why),
            }
        )
    source = regime.declared or "the tests' own regime (relu_regime.tiny)"
    text = (
        f"# ReLU against tanh: the regime\n\nDeclared in `{source}`. A candidate qualifies "
        f"when, at each activation's kept rate, the slower activation needs at least "
        f"{regime.min_epochs:g} epochs to {regime.target:.0%} training error on average over "
        f"the sweep seeds {list(regime.sweep_seeds)}, every sweep seed gets there by epoch "
        f"{regime.room_epochs:g} (horizon {regime.horizon}), and no layer ends above "
        f"{regime.dead_gate:g} dead units.\n\n"
        + markdown_table(rows)
        + ("" if regime.enforced else "\nThe tests' regime: the rule is reported, not enforced.\n")
        + (
            f"\nThe task: {regime.candidates[chosen_index - 1][0]}.\n"
            if chosen_index
            else "\nNo candidate qualifies: the claim's runs were not made.\n"
        )
    )
    return text, tables.get(chosen_index) or next(iter(tables.values()), []), chosen_index


def report(source: Path, out: Path) -> str:
    """Write the regime, the tables, the figure and the ratios from `source`'s runs; return the
    ratio line."""
    runs = load_runs(source)
    record = read_provenance(out) or read_provenance(source) or {}
    regime = regime_of(record)
    regime_text, sweep_table, chosen = regime_page(regime, sweep_stages(runs))
    (out / "regime.md").write_text(regime_text)
    write_table(sweep_table, out / "lr_sweep")
    seeded = [r for r in runs if not stage(r).startswith(SWEEP)]
    made = provenance_markdown(record)
    if not chosen or not seeded:
        text = "# ReLU against tanh\n\n" + made + "\n" + regime_text.split("\n", 2)[2]
        (out / "relu_vs_tanh.md").write_text(text)
        print(text)
        return "no candidate qualifies"
    rows, _ = seed_rows(seeded, regime.target)
    per_seed, censored, removed = paired_steps(seeded, regime.target)
    write_table(rows, out / "relu_vs_tanh")
    line = ratio_line(per_seed, regime.target, len(regime.seeds), censored)
    areas = area_line(area_ratios(seeded))
    write_relu_effect(out, per_seed, seeded, record, censored=censored, removed=removed)
    text = (
        "# ReLU against tanh\n\n"
        + made
        + f"\n{line}\n\n{areas}\n\nThe task: {regime.candidates[chosen - 1][0]} (regime.md: "
        "how it was chosen), data seed fixed; the training seeds vary init and order. Both "
        "activations: PyTorch's default init, no warm-up, no clipping, no regularization. "
        "Training error: eval mode on a fixed un-augmented subset of the training set.\n\n"
        "At each activation's own learning rate, over fresh training seeds:\n\n"
        + markdown_table(rows)
        + "\nThe learning-rate sweep that chose them (training seeds "
        f"{', '.join(map(str, regime.sweep_seeds))}); dead units per layer (act1 / act2 / ...) "
        "at the end of each run; the kept rate is the one whose slower seed reached the target "
        "first, and a rate with a dead or diverged seed is never kept:\n\n"
        + markdown_table(sweep_table)
    )
    (out / "relu_vs_tanh.md").write_text(text)
    curves_figure(seeded, regime.target).savefig(out / "relu_vs_tanh.png", dpi=110)
    print(text)
    print(f"Wrote {out}")
    return line
