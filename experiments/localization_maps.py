"""The maps localization (experiments/localization.py) scores on each run's held-out test images:
trained and untrained Grad-CAM, the centre prior, local contrast energy and the oracle on
Grad-CAM's grid; the pointing game and mass inside per seed and map (pointing.csv), and the
table over seeds."""

from __future__ import annotations

import csv
from pathlib import Path

import torch

from alexnet.data import AlexNetDataModule
from alexnet.interpret import grad_cam
from alexnet.interpret.attribution import cam_layer
from alexnet.interpret.localization import (
    centre_prior,
    contrast_saliency,
    flat_maps,
    mass_inside,
    oracle_maps,
    pointing_hits,
)
from alexnet.models import create_model
from alexnet.run.checkpoints import resolve_checkpoint
from alexnet.tables import write_table
from alexnet.training.module import AlexNetModule
from experiments.lab.runs import Run
from experiments.lab.stats import mean_ci, wilson

TRAINED, PRIOR = "Grad-CAM, trained", "centre prior"
MAPS = (
    TRAINED,
    "Grad-CAM, untrained (a fresh init)",
    PRIOR,
    "local contrast energy",
    "oracle (the mask on Grad-CAM's grid)",
)


def held_out(data: dict, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to `count` test images (normalized, un-augmented) and their object masks."""
    datamodule = AlexNetDataModule(**{k: v for k, v in data.items() if k != "_target_"})
    datamodule.setup()
    test = datamodule.datasets["test"]
    indices = range(min(count, len(test)))
    return (
        torch.stack([test[i][0] for i in indices]),
        torch.stack([test.object_mask(i) for i in indices]),
    )


def cam_grid(model: torch.nn.Module, layer: str, image: torch.Tensor) -> int:
    """The side of `layer`'s output grid for images like `image`: Grad-CAM's resolution."""
    sizes: list[int] = []
    handle = cam_layer(model, layer).register_forward_hook(
        lambda _m, _i, output: sizes.append(output.shape[-1])
    )
    try:
        with torch.no_grad():
            model.eval()(image[:1])
    finally:
        handle.remove()
    return sizes[0]


def run_maps(run: Run, layer: str, count: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Each map of MAPS for the run's test images, and their masks."""
    module = AlexNetModule.load_from_checkpoint(
        resolve_checkpoint(run.path), map_location="cpu", weights_only=True
    )
    trained = module.model.eval()
    spec = dict(module.hparams["model"])
    torch.manual_seed(int(run.config["seed"]))
    untrained = create_model(spec.pop("preset"), **spec).eval()
    images, masks = held_out(run.config["data"], count)
    maps = [
        grad_cam(trained, images, layer=layer),
        grad_cam(untrained, images, layer=layer),
        centre_prior(len(images), images.shape[-1]),
        contrast_saliency(images),
        oracle_maps(masks, cam_grid(trained, layer, images)),
    ]
    return dict(zip(MAPS, maps)), masks


def measure(out: Path, runs: list[Run], layer: str, count: int) -> list[dict[str, object]]:
    """pointing.csv: per completed run and map, the hits, images, mass inside, flat maps."""
    rows: list[dict[str, object]] = []
    done = sorted(
        (r for r in runs if r.record.get("status") == "completed"),
        key=lambda r: r.config["seed"],
    )
    for run in done:
        maps, masks = run_maps(run, layer, count)
        for name, found in maps.items():
            rows.append(
                {
                    "seed": int(run.config["seed"]),
                    "map": name,
                    "hits": int(pointing_hits(found, masks).sum()),
                    "images": len(masks),
                    "mass inside": round(mass_inside(found, masks), 6),
                    "flat maps": int(flat_maps(found).sum()),
                    "object share": round(float(masks.float().mean()), 6),
                    "val top-1": run.metrics.get("val/acc1"),
                }
            )
    write_table(rows, out / "pointing")
    return rows


def read_pointing(path: Path) -> list[dict[str, object]]:
    with path.open(newline="") as handle:
        return [
            {k: (v if k == "map" else float(v) if v else None) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]


def map_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per map: the pointing game over seeds (mean and 95% CI, clipped to [0, 1]), the first
    run's Wilson interval, the mass inside, the flat maps and the object's share."""
    table = []
    for name in MAPS:
        mine = [r for r in rows if r["map"] == name]
        if not mine:
            continue
        rates = [r["hits"] / r["images"] for r in mine]
        low, high = wilson(int(mine[0]["hits"]), int(mine[0]["images"]))
        table.append(
            {
                "map": name,
                "seeds": len(mine),
                "pointing game": mean_ci(rates).bounded(),
                "first seed's interval (Wilson)": (
                    f"[{low:.3f}, {high:.3f}] of {int(mine[0]['images'])}"
                ),
                "mass inside": mean_ci([r["mass inside"] for r in mine]).bounded(),
                "flat maps": int(sum(r["flat maps"] for r in mine)),
                "object share of the image": mean_ci([r["object share"] for r in mine]).bounded(),
            }
        )
    return table
