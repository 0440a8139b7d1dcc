"""Experiment 3, dropout: the seed's MLP demo, then the same comparison on AlexNet.

    python -m experiments.dropout [--size tiny|cpu|full] [--seeds N] [--out DIR]
                                  [--data NAME] [--data-root PATH] [hydra overrides ...]
    python -m experiments.dropout --report DIR [--out OUT]   # re-make the report, no training

Part 1 (the seed's demo): a small MLP with and without dropout on a task where 5 of 100 input
features matter and training examples are few; training loss and test accuracy per epoch.
Part 2: AlexNet itself through the framework, one Hydra multirun `dropout=none,standard` on a
small training set where overfitting shows. Each over --seeds seeds: mean ± 95% CI, and
whether dropout's effect exceeds the seed-to-seed noise. Writes dropout.md/.csv, dropout.png,
mlp_curves.csv, runs.json and provenance.json.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from alexnet.tables import markdown_table, write_table
from experiments.lab.harness import (
    SYNTHETIC_ONLY,
    experiment_parser,
    output_dir,
    report_dirs,
    run_sweep,
    seeds_of,
    size_overrides,
)
from experiments.lab.provenance import provenance_markdown, read_provenance
from experiments.lab.runs import load_runs
from experiments.lab.stats import difference, mean_ci

FEATURES, INFORMATIVE = 100, 5
MLP_EPOCHS = {"tiny": 5, "cpu": 150, "full": 300}
ALEXNET = {
    "tiny": ["trainer.max_epochs=2"],
    "cpu": ["trainer.max_epochs=15", "data.train_per_class=30", "optimizer.lr=1e-3"],
    "full": ["trainer.max_epochs=40", "data.train_per_class=100"],
}


def few_features_task(
    samples: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs of 100 features; the label depends on the first 5 only (with label noise)."""
    x = torch.randn(samples, FEATURES, generator=generator)
    weights = torch.tensor([1.5, -2.0, 1.0, 2.5, -1.2])
    score = x[:, :INFORMATIVE] @ weights + 0.5 * torch.randn(samples, generator=generator)
    return x, (score > 0).long()


def mlp(dropout: float) -> nn.Sequential:
    """100 -> 256 -> 256 -> 2, dropout after each hidden layer."""
    return nn.Sequential(
        nn.Linear(FEATURES, 256),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(256, 2),
    )


def mlp_curves(dropout: float, epochs: int, seed: int = 0) -> list[dict[str, float]]:
    """Training loss and test accuracy per epoch of the MLP, 200 training examples."""
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = few_features_task(200, generator)
    x_test, y_test = few_features_task(2000, generator)
    torch.manual_seed(seed)
    model = mlp(dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    curves = []
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        for batch in torch.randperm(len(x_train)).split(20):
            loss = nn.functional.cross_entropy(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        curves.append(
            {
                "dropout": dropout,
                "seed": seed,
                "epoch": epoch,
                "train_loss": sum(losses) / len(losses),
                "test_acc": accuracy,
            }
        )
    return curves


Curves = dict[float, list[list[dict[str, float]]]]  # dropout -> one curve per seed


def _mean_curve(curves: list[list[dict]], key: str) -> list[float]:
    length = min(len(c) for c in curves)
    return [sum(c[i].get(key) or 0.0 for c in curves) / len(curves) for i in range(length)]


def dropout_figure(mlp_runs: Curves, alexnet_runs: dict[float, list[list[dict]]]) -> Figure:
    """Training loss and held-out accuracy per epoch, mean over seeds: MLP (top), AlexNet."""
    figure = Figure(figsize=(11, 8))
    axes = figure.subplots(2, 2)
    for p, curves in mlp_runs.items():
        epochs = range(1, len(_mean_curve(curves, "train_loss")) + 1)
        axes[0, 0].plot(epochs, _mean_curve(curves, "train_loss"), label=f"dropout {p:g}")
        axes[0, 1].plot(epochs, _mean_curve(curves, "test_acc"), label=f"dropout {p:g}")
    for p, histories in alexnet_runs.items():
        epochs = range(1, len(_mean_curve(histories, "train/loss")) + 1)
        axes[1, 0].plot(epochs, _mean_curve(histories, "train/loss"), label=f"dropout {p:g}")
        axes[1, 1].plot(epochs, _mean_curve(histories, "val/acc1"), label=f"dropout {p:g}")
    titles = [
        ["MLP: training loss", "MLP: test accuracy"],
        ["AlexNet (mini): training loss", "AlexNet (mini): validation top-1"],
    ]
    for i in range(2):
        for j in range(2):
            axes[i, j].set_title(titles[i][j] + " (mean over seeds)")
            axes[i, j].set_xlabel("epoch")
            axes[i, j].legend()
    figure.tight_layout()
    return figure


def report(source: Path, out: Path, mlp_runs: Curves) -> list[dict[str, object]]:
    """The table and figure from the MLP curves and `source`'s AlexNet runs."""
    runs = [r for r in load_runs(source) if r.record.get("status") == "completed"]
    alexnet_runs: dict[float, list[list[dict]]] = {}
    finals: dict[tuple[str, float], dict[str, list[float]]] = {}
    for p, curves in mlp_runs.items():
        finals[("MLP (seed demo)", p)] = {
            "train_loss": [c[-1]["train_loss"] for c in curves],
            "heldout_acc": [c[-1]["test_acc"] for c in curves],
        }
    for run in runs:
        p = float(run.config["dropout"]["p"])
        alexnet_runs.setdefault(p, []).append(run.history)
        entry = finals.setdefault(
            (f"AlexNet ({run.config['model']['preset']})", p), {"train_loss": [], "heldout_acc": []}
        )
        entry["train_loss"].append(run.metrics.get("train/loss"))
        entry["heldout_acc"].append(run.metrics.get("val/acc1"))
    rows: list[dict[str, object]] = []
    for (model, p), values in finals.items():
        rows.append(
            {
                "model": model,
                "dropout": p,
                "seeds": len(values["heldout_acc"]),
                "final_train_loss": str(mean_ci(values["train_loss"])),
                "final_heldout_acc": str(mean_ci(values["heldout_acc"])),
            }
        )
    effects = []
    for model in dict.fromkeys(model for model, _ in finals):
        with_, without = finals.get((model, 0.5)), finals.get((model, 0.0))
        if with_ and without:
            delta, beyond = difference(with_["heldout_acc"], without["heldout_acc"])
            ci = f" ± {100 * delta.half_width:.1f}" if delta.half_width is not None else ""
            effects.append(
                {
                    "model": model,
                    "held-out accuracy, dropout 0.5 - none (points)": (
                        f"{100 * delta.mean:+.1f}{ci}"
                    ),
                    "beyond seed noise": {True: "yes", False: "no", None: "n/a (1 seed)"}[beyond],
                }
            )
    write_table(rows, out / "dropout")
    text = (
        "# Dropout\n\n"
        + provenance_markdown(read_provenance(out) or read_provenance(source))
        + "\nFinal values, mean ± 95% CI over seeds:\n\n"
        + markdown_table(rows)
        + "\nDropout's effect (Welch's 95% CI):\n\n"
        + markdown_table(effects)
    )
    (out / "dropout.md").write_text(text)
    dropout_figure(mlp_runs, alexnet_runs).savefig(out / "dropout.png", dpi=110)
    print(text)
    print(f"Wrote {out}")
    return rows


def read_mlp_curves(path: Path) -> Curves:
    """mlp_curves.csv back as dropout -> one curve per seed."""
    runs: dict[float, dict[float, list[dict[str, float]]]] = {}
    with path.open(newline="") as handle:
        for entry in csv.DictReader(handle):
            values = {k: float(v) for k, v in entry.items()}
            runs.setdefault(values["dropout"], {}).setdefault(values["seed"], []).append(values)
    return {p: list(by_seed.values()) for p, by_seed in runs.items()}


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("dropout", __doc__.splitlines()[0])
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        source, out = report_dirs(args, "dropout")
        if out != source:
            (out / "mlp_curves.csv").write_text((source / "mlp_curves.csv").read_text())
        report(source, out, read_mlp_curves(source / "mlp_curves.csv"))
        return out
    out = output_dir("dropout", args.out)
    seeds = seeds_of(args)
    mlp_runs = {
        p: [mlp_curves(p, MLP_EPOCHS[args.size], seed) for seed in range(seeds)] for p in (0.0, 0.5)
    }
    write_table(
        [c for curves in mlp_runs.values() for curve in curves for c in curve], out / "mlp_curves"
    )
    named = args.data_root or args.data not in (None, "synthetic")
    alexnet = [o for o in ALEXNET[args.size] if not (named and o.startswith(SYNTHETIC_ONLY))]
    run_sweep(
        [
            *size_overrides(args.size, args.data_root, args.data),
            *alexnet,
            "dropout=none,standard",
            *overrides,
        ],
        out,
        seeds,
    )
    report(out, out, mlp_runs)
    return out


if __name__ == "__main__":
    main()
