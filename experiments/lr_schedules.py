"""Experiment 6, learning-rate schedules: the lr of every schedule config over a training run.

    python -m experiments.lr_schedules [--out DIR] [--epochs 90] [--steps-per-epoch 100]
                                       [--warmup-epochs 5]

Each schedule is composed from alexnet/config/conf/schedule/ with the paper's SGD (lr 0.01) and
built by the same `build_schedules` that training uses; the scheduler objects are stepped as
Lightning steps them (warmup per optimizer step, the main schedule per epoch). `plateau` watches
a simulated validation accuracy that levels off and climbs again after each lr drop, as in the
paper.
Writes lr_schedules.png and lr_schedules.md/.csv (the lr at chosen epochs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from matplotlib.figure import Figure
from omegaconf import OmegaConf

from alexnet.config.compose import compose_config
from alexnet.tables import write_table
from alexnet.training.optim import build_optimizer, build_schedules
from experiments.lab.harness import output_dir
from experiments.lab.provenance import recorded

SCHEDULES = {
    "constant": ["schedule=constant"],
    "step": ["schedule=step"],
    "multistep": ["schedule=multistep"],
    "cosine": ["schedule=cosine"],
    "exponential": ["schedule=exponential"],
    "plateau": ["schedule=plateau"],
    "warmup+cosine": ["schedule=cosine"],  # warmup_steps set from --warmup-epochs
}


def schedule_config(name: str, warmup_steps: int) -> tuple[dict, dict]:
    """The optimizer and schedule configs `python train.py optimizer=sgd <schedule>` uses."""
    cfg = compose_config(["optimizer=sgd", *SCHEDULES[name]])
    optimizer = OmegaConf.to_container(cfg.optimizer, resolve=True)
    schedule = OmegaConf.to_container(cfg.schedule, resolve=True)
    if name == "warmup+cosine":
        schedule["warmup_steps"] = warmup_steps
    return optimizer, schedule


def simulate(name: str, epochs: int, steps_per_epoch: int, warmup_steps: int) -> list[float]:
    """The lr of every optimizer step of an `epochs`-epoch run under schedule `name`."""
    optimizer_cfg, schedule_cfg = schedule_config(name, warmup_steps)
    optimizer = build_optimizer([torch.nn.Parameter(torch.zeros(1))], optimizer_cfg)
    configs = build_schedules(optimizer, schedule_cfg, max_epochs=epochs)
    lrs, accuracy, drops = [], 0.3, 0
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            for config in configs:
                if config["interval"] == "step":
                    config["scheduler"].step()
        ceiling = 0.55 + 0.1 * drops  # each lr drop lets the accuracy climb higher
        accuracy += (ceiling - accuracy) * 0.2
        for config in configs:
            if config["interval"] == "epoch":
                before = optimizer.param_groups[0]["lr"]
                if "monitor" in config:
                    config["scheduler"].step(accuracy)
                else:
                    config["scheduler"].step()
                drops += optimizer.param_groups[0]["lr"] < before
    return lrs


# What moves each schedule: the epoch count, except plateau, which reacts to a metric; here that
# metric is simulated (no model trains), so its drops show the rule, not a real run.
SIMULATED = "a simulated validation accuracy (no training run)"


def driven_by(name: str) -> str:
    """What a schedule's curve responds to in this experiment."""
    return SIMULATED if name == "plateau" else "the epoch (and step) count"


def lr_figure(curves: dict[str, list[float]], steps_per_epoch: int) -> Figure:
    """The lr against the epoch, one line per schedule, on a log scale."""
    figure = Figure(figsize=(10, 5))
    axes = figure.subplots()
    for name, lrs in curves.items():
        label = f"{name} (on {SIMULATED})" if name == "plateau" else name
        axes.plot([i / steps_per_epoch for i in range(len(lrs))], lrs, label=label)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("learning rate (SGD, base 0.01)")
    axes.set_title("Learning-rate schedules as training builds them")
    axes.legend()
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="output dir (default: logs/experiments/lr_schedules/<time>)")
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--warmup-epochs", type=int, default=5)
    args = parser.parse_args(argv)
    out = output_dir("lr_schedules", args.out)
    with recorded(out):
        warmup = args.warmup_epochs * args.steps_per_epoch
        curves = {
            name: simulate(name, args.epochs, args.steps_per_epoch, warmup) for name in SCHEDULES
        }
        marks = sorted(
            {0, 1, args.warmup_epochs, args.epochs // 3, args.epochs * 2 // 3, args.epochs - 1}
        )
        rows = [
            {
                "schedule": name,
                **{f"epoch {e}": lrs[e * args.steps_per_epoch] for e in marks},
                "driven_by": driven_by(name),
            }
            for name, lrs in curves.items()
        ]
        print(write_table(rows, out / "lr_schedules"))
        lr_figure(curves, args.steps_per_epoch).savefig(out / "lr_schedules.png", dpi=110)
        print(f"Wrote {out}")
    return out


if __name__ == "__main__":
    main()
