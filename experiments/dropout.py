"""Experiment 3, dropout: the seed's MLP demo, then the same comparison on AlexNet.

    python experiments/dropout.py [--size tiny|cpu|full] [--out DIR] [hydra overrides ...]
    python experiments/dropout.py --report DIR    # re-make the report, no training

Part 1 (the seed's demo): a small MLP with and without dropout on a task where 5 of 100 input
features matter and training examples are few; training loss and test accuracy per epoch.
Part 2: AlexNet itself through the framework, one Hydra multirun `dropout=none,standard` on a
small training set where overfitting shows. Writes dropout.md/.csv, dropout.png and
mlp_curves.csv.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from alexnet.experiment_args import SYNTHETIC_ONLY, experiment_parser, output_dir, size_overrides
from alexnet.sweeps import launch_multirun, load_runs
from alexnet.tables import write_table

FEATURES, INFORMATIVE = 100, 5
MLP_EPOCHS = {"tiny": 5, "cpu": 150, "full": 300}
ALEXNET = {"tiny": ["trainer.max_epochs=2"],
           "cpu": ["trainer.max_epochs=15", "data.train_per_class=30", "optimizer.lr=1e-3"],
           "full": ["trainer.max_epochs=40", "data.train_per_class=100"]}


def few_features_task(samples: int, generator: torch.Generator
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs of 100 features; the label depends on the first 5 only (with label noise)."""
    x = torch.randn(samples, FEATURES, generator=generator)
    weights = torch.tensor([1.5, -2.0, 1.0, 2.5, -1.2])
    score = x[:, :INFORMATIVE] @ weights + 0.5 * torch.randn(samples, generator=generator)
    return x, (score > 0).long()


def mlp(dropout: float) -> nn.Sequential:
    """100 -> 256 -> 256 -> 2, dropout after each hidden layer."""
    return nn.Sequential(nn.Linear(FEATURES, 256), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(256, 256), nn.ReLU(), nn.Dropout(dropout), nn.Linear(256, 2))


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
        curves.append({"dropout": dropout, "epoch": epoch,
                       "train_loss": sum(losses) / len(losses), "test_acc": accuracy})
    return curves


def dropout_figure(mlp_runs: dict[float, list[dict[str, float]]], alexnet_runs: dict) -> Figure:
    """Training loss and held-out accuracy per epoch: MLP (top), AlexNet (bottom)."""
    figure = Figure(figsize=(11, 8))
    axes = figure.subplots(2, 2)
    for p, curve in mlp_runs.items():
        epochs = [c["epoch"] for c in curve]
        axes[0, 0].plot(epochs, [c["train_loss"] for c in curve], label=f"dropout {p:g}")
        axes[0, 1].plot(epochs, [c["test_acc"] for c in curve], label=f"dropout {p:g}")
    for p, history in alexnet_runs.items():
        epochs = [h["epoch"] + 1 for h in history]
        axes[1, 0].plot(epochs, [h.get("train/loss") for h in history], label=f"dropout {p:g}")
        axes[1, 1].plot(epochs, [h.get("val/acc1") for h in history], label=f"dropout {p:g}")
    titles = [["MLP: training loss", "MLP: test accuracy"],
              ["AlexNet (mini): training loss", "AlexNet (mini): validation top-1"]]
    for i in range(2):
        for j in range(2):
            axes[i, j].set_title(titles[i][j])
            axes[i, j].set_xlabel("epoch")
            axes[i, j].legend()
    figure.tight_layout()
    return figure


def report(out: Path, mlp_runs: dict[float, list[dict[str, float]]]) -> list[dict[str, object]]:
    """The table and figure from the MLP curves and the AlexNet runs under out/sweep."""
    runs = load_runs(out / "sweep")
    alexnet_runs = {float(run.config["dropout"]["p"]): run.history for run in runs}
    rows: list[dict[str, object]] = []
    for p, curve in mlp_runs.items():
        rows.append({"model": "MLP (seed demo)", "dropout": p,
                     "final_train_loss": curve[-1]["train_loss"],
                     "final_heldout_acc": curve[-1]["test_acc"],
                     "best_heldout_acc": max(c["test_acc"] for c in curve)})
    for run in runs:
        rows.append({"model": f"AlexNet ({run.config['model']['preset']})",
                     "dropout": float(run.config["dropout"]["p"]),
                     "final_train_loss": run.metrics.get("train/loss"),
                     "final_heldout_acc": run.metrics.get("val/acc1"),
                     "best_heldout_acc": max((h.get("val/acc1", 0) for h in run.history),
                                             default=None)})
    print(write_table(rows, out / "dropout"))
    dropout_figure(mlp_runs, alexnet_runs).savefig(out / "dropout.png", dpi=110)
    print(f"Wrote {out}")
    return rows


def read_mlp_curves(path: Path) -> dict[float, list[dict[str, float]]]:
    runs: dict[float, list[dict[str, float]]] = {}
    with path.open(newline="") as handle:
        for entry in csv.DictReader(handle):
            values = {k: float(v) for k, v in entry.items()}
            runs.setdefault(values["dropout"], []).append(values)
    return runs


def main(argv: list[str] | None = None) -> Path:
    parser = experiment_parser("dropout", __doc__.splitlines()[0])
    args, overrides = parser.parse_known_args(argv)
    if args.report:
        report(args.report, read_mlp_curves(args.report / "mlp_curves.csv"))
        return args.report
    out = output_dir("dropout", args.out)
    mlp_runs = {p: mlp_curves(p, MLP_EPOCHS[args.size]) for p in (0.0, 0.5)}
    write_table([c for curve in mlp_runs.values() for c in curve], out / "mlp_curves")
    alexnet = [o for o in ALEXNET[args.size]
               if not (args.data_root and o.startswith(SYNTHETIC_ONLY))]
    launch_multirun([*size_overrides(args.size, args.data_root), *alexnet, "dropout=none,standard",
                     *overrides], out / "sweep")
    report(out, mlp_runs)
    return out


if __name__ == "__main__":
    main()
