"""Does Grad-CAM point at the object? The synthetic images know where their object is.

    python experiments/localization.py [--size tiny|cpu] [--layer conv3] [--images 200]
                                       [--out DIR] [hydra overrides ...]

Trains the `mini` preset on the synthetic data (a real `train()` run, its checkpoint kept under
DIR/run), then on held-out validation images measures, against each image's object mask:
- the pointing game: the share of images whose Grad-CAM maximum lies inside the object;
- mass inside: the mean share of the Grad-CAM mass inside the object;
for the trained model, the same network untrained (a fresh init) and a centre prior (a
Gaussian at the image centre, no model). Writes localization.md/.csv and provenance.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from omegaconf import OmegaConf

from alexnet.config import compose_config
from alexnet.data import AlexNetDataModule
from alexnet.experiment_args import output_dir
from alexnet.interpret import grad_cam
from alexnet.localization import centre_prior, mass_inside, pointing_game
from alexnet.models import create_model
from alexnet.module import AlexNetModule
from alexnet.provenance import provenance_markdown, read_provenance, recorded
from alexnet.run import train
from alexnet.tables import markdown_table, write_table

SIZES = {
    "tiny": ["data.num_classes=4", "data.train_per_class=30", "data.val_per_class=10",
             "trainer.max_epochs=4"],
    "cpu": ["data.num_classes=10", "data.train_per_class=100", "data.val_per_class=20",
            "trainer.max_epochs=10"],
}
COMMON = ["model=mini", "data.image_size=64", "data.test_per_class=2", "data.batch_size=32",
          "data.num_workers=0", "trainer=cpu", "logger=none", "callbacks=none", "test=false",
          "optimizer.lr=1e-3", "checkpoint_every_n_steps=0"]


def held_out(cfg_data: dict, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to `count` validation images (normalized) and their object masks."""
    datamodule = AlexNetDataModule(**{k: v for k, v in cfg_data.items() if k != "_target_"})
    datamodule.setup()
    val = datamodule.datasets["val"]
    indices = range(min(count, len(val)))
    images = torch.stack([val[i][0] for i in indices])
    masks = torch.stack([val.object_mask(i) for i in indices])
    return images, masks


def scores(maps: torch.Tensor, masks: torch.Tensor) -> dict[str, float]:
    return {"pointing game": round(pointing_game(maps, masks), 4),
            "mass inside": round(mass_inside(maps, masks), 4),
            "object share of the image": round(float(masks.float().mean()), 4)}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(SIZES), default="cpu")
    parser.add_argument("--layer", default="conv3", help="the conv layer Grad-CAM reads")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--out")
    args, overrides = parser.parse_known_args(argv)
    out = output_dir("localization", args.out)
    with recorded(out, seeds=[0]):
        cfg = compose_config([*COMMON, *SIZES[args.size], *overrides], output_dir=out / "run")
        record = train(cfg)
        trained_module = AlexNetModule.load_from_checkpoint(
            record["best_checkpoint"], map_location="cpu", weights_only=True)
        trained = trained_module.model
        torch.manual_seed(cfg.seed)  # the untrained twin: the same layout, a fresh init
        spec = dict(trained_module.hparams["model"])
        untrained = create_model(spec.pop("preset"), **spec)
        images, masks = held_out(OmegaConf.to_container(cfg.data, resolve=True), args.images)
        rows = [{"model": "trained (mini)", "val top-1": record["metrics"].get("val/acc1"),
                 **scores(grad_cam(trained, images, layer=args.layer), masks)},
                {"model": "untrained (mini, a fresh init)", "val top-1": None,
                 **scores(grad_cam(untrained, images, layer=args.layer), masks)},
                {"model": "centre prior (no model)", "val top-1": None,
                 **scores(centre_prior(len(images), images.shape[-1]), masks)}]
        write_table(rows, out / "localization")
    text = ("# Grad-CAM localization on the synthetic data\n\n" +
            provenance_markdown(read_provenance(out)) +
            f"\nGrad-CAM at {args.layer}, {len(images)} validation images, their object masks:\n\n"
            + markdown_table(rows))
    (out / "localization.md").write_text(text)
    print(text)
    return out


if __name__ == "__main__":
    main()
