"""alexnet-predict's images per second beside a plain PyTorch loop over the same files and model,
side by side in one run.

    python -m experiments.predict_speed [--images 256] [--rounds 5] [--batch 64] [--workers 1]
                                        [--preset alexnet] [--size 224] [--out DIR]

Both read the same photo-like 500x375 JPEGs from disk with the same number of loader workers,
resize, crop and normalize them with the same transform, run the same model (random weights,
1000 classes) in inference mode, take the top 5 and write one CSV row per image. The plain loop
is what a user would write (PIL, torchvision transforms, a DataLoader, csv.writer); the lab's
path is `predict` and `write_rows` (bad files checked, EXIF orientation, decompression bombs
refused, the file written whole). Rounds alternate plain, lab, plain, lab...; the rates are
medians and the ratio is the median of the rounds' paired ratios (lab / plain). Writes
predict_speed.md/.csv and provenance.json.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from alexnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from alexnet.inference.predictions import Preprocessing, predict
from alexnet.inference.rows import write_rows
from alexnet.models import create_model
from alexnet.tables import write_table
from experiments.lab.harness import int_at_least, output_dir
from experiments.lab.jpeg_folder import photo_like_jpegs
from experiments.lab.provenance import recorded

TOP_K = 5


class PlainFiles(Dataset):
    """What a user writes: open, convert to RGB, transform."""

    def __init__(self, paths: list[Path], transform) -> None:  # noqa: ANN001
        self.paths, self.transform = paths, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB"))


def plain(model, paths, prep, names, batch, workers, out: Path) -> float:  # noqa: ANN001
    """Images per second of the plain loop, writing `out`."""
    started = time.perf_counter()
    loader = DataLoader(PlainFiles(paths, prep.transform()), batch_size=batch, num_workers=workers)
    with torch.inference_mode(), out.open("w", newline="") as stream:
        writer, done = csv.writer(stream), 0
        for images in loader:
            probs, classes = model(images).softmax(-1).topk(TOP_K, dim=-1)
            for probs_row, classes_row in zip(probs.tolist(), classes.tolist()):
                ranked = [v for c, p in zip(classes_row, probs_row) for v in (names[c], f"{p:.6f}")]
                writer.writerow([paths[done], *ranked])
                done += 1
    return len(paths) / (time.perf_counter() - started)


def lab(model, paths, prep, names, batch, workers, out: Path) -> float:  # noqa: ANN001
    """Images per second of the lab's predict path, writing `out`."""
    started = time.perf_counter()
    rows = predict(model, paths, prep, names, TOP_K, batch, workers, "cpu", progress=False)
    write_rows(rows, out)
    return len(paths) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int_at_least(8), default=256)
    parser.add_argument("--rounds", type=int_at_least(1), default=5)
    parser.add_argument("--batch", type=int_at_least(1), default=64)
    parser.add_argument("--workers", type=int_at_least(0), default=1)
    parser.add_argument("--preset", default="alexnet")
    parser.add_argument("--size", type=int_at_least(32), default=224)
    parser.add_argument("--out", help="output dir (default: logs/experiments/predict_speed/<time>)")
    args = parser.parse_args(argv)
    out = output_dir("predict_speed", args.out)
    with recorded(out):
        folder = out / "images"
        folder.mkdir(exist_ok=True)
        paths = []
        for index, encoded in enumerate(photo_like_jpegs(args.images)):
            paths.append(folder / f"{index:05d}.jpg")
            paths[-1].write_bytes(encoded)
        torch.manual_seed(0)
        model = create_model(args.preset, num_classes=1000).eval()
        names = [f"class_{i}" for i in range(1000)]
        resize = round(args.size * 256 / 224)
        prep = Preprocessing(args.size, resize, IMAGENET_MEAN, IMAGENET_STD)
        common = (model, paths, prep, names, args.batch, args.workers)
        plain(*common, out / "plain.csv")  # warm-up: the first decode, the first forward
        rates: dict[str, list[float]] = {"plain PyTorch loop": [], "alexnet-predict": []}
        for _ in range(args.rounds):
            rates["plain PyTorch loop"].append(plain(*common, out / "plain.csv"))
            rates["alexnet-predict"].append(lab(*common, out / "lab.csv"))
        ratios = [b / a for a, b in zip(*rates.values())]
        rows = [
            {
                "path": name,
                "img/s (median)": round(statistics.median(values), 1),
                "rounds": ", ".join(f"{v:.1f}" for v in values),
                "ratio to plain (median of paired rounds)": round(
                    statistics.median(ratios) if name == "alexnet-predict" else 1.0, 3
                ),
            }
            for name, values in rates.items()
        ]
        table = write_table(rows, out / "predict_speed")
        setup = (
            f"{args.images} JPEGs (500x375), {args.preset} at {args.size} px, batch {args.batch}, "
            f"{args.workers} loader worker(s), {torch.get_num_threads()} torch threads"
        )
        (out / "predict_speed.md").write_text(f"{setup}\n\n{table}")
        for name in ("images",):
            for path in (out / name).iterdir():
                path.unlink()
            (out / name).rmdir()
        for name in ("plain.csv", "lab.csv"):
            (out / name).unlink()
    print(f"{setup}\n\n{table}")
    return out


if __name__ == "__main__":
    main()
