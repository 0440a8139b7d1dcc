"""JPEG decoding: torchvision's decoders (deprecated in torchvision 0.29) against TorchCodec's,
on the two paths the lab decodes on, side by side in one run.

    python -m experiments.image_decoders [--images 256] [--rounds 3] [--batch 64] [--out DIR]

- loader path (``data.decode=loader``, the default): each image decoded on its own in a loader
  worker: PIL (what the workers run today), ``torchvision.io.decode_jpeg`` and
  ``torchcodec.decoders.decode_jpeg`` on the CPU, one thread, one image at a time.
- device path (``data.decode=device``): a batch of JPEG bytes decoded by one call on the
  training device (nvJPEG on a CUDA GPU; the CPU's decoder where the trainer runs on the CPU):
  torchvision's and TorchCodec's list decoders.

The images are ImageNet-sized (500x375) JPEGs (quality 90) of 1/f colour noise, whose spectrum
and file size are those of photographs rather than of white noise. Rates are images/s, the
median over alternating rounds; every decoder's pixels are compared with PIL's (the loader's
reference) as the largest absolute difference in 0-255 levels. Rows needing TorchCodec or a GPU
say so when it is missing. Writes image_decoders.md/.csv and provenance.json.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.io import ImageReadMode
from torchvision.io import decode_jpeg as tv_decode_jpeg
from torchvision.transforms.v2.functional import pil_to_tensor

from alexnet.tables import write_table
from experiments.lab.harness import int_at_least, output_dir
from experiments.lab.jpeg_folder import photo_like_jpegs
from experiments.lab.provenance import recorded

Decoder = Callable[[list[torch.Tensor]], list[torch.Tensor]]


def pil_decoder(items: list[bytes]) -> list[torch.Tensor]:
    return [pil_to_tensor(Image.open(io.BytesIO(b)).convert("RGB")) for b in items]


def torchvision_one_by_one(items: list[torch.Tensor]) -> list[torch.Tensor]:
    return [tv_decode_jpeg(item, mode=ImageReadMode.RGB) for item in items]


def torchvision_batch(device: torch.device) -> Decoder:
    return lambda items: tv_decode_jpeg(items, mode=ImageReadMode.RGB, device=device)


def torchcodec_decoders(device: torch.device) -> tuple[Decoder, Decoder] | None:
    """(one by one on the CPU, a batch on `device`), or None without TorchCodec."""
    try:
        from torchcodec.decoders import decode_jpeg
    except ImportError:
        return None
    return (
        lambda items: [decode_jpeg(item, mode="RGB") for item in items],
        lambda items: decode_jpeg(items, mode="RGB", device=device),
    )


def rate(decode: Callable, items: list, device: torch.device, batch: int) -> float:
    """Images per second decoding `items` in slices of `batch` (one call each)."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    started = time.perf_counter()
    for i in range(0, len(items), batch):
        decode(items[i : i + batch])
    sync()
    return len(items) / (time.perf_counter() - started)


def max_difference(decode: Callable, items: list, reference: list[torch.Tensor]) -> int:
    """Largest absolute pixel difference (0-255) from the reference decoder's images."""
    images = decode(items[:16])
    return max(
        int((image.cpu().int() - ref.int()).abs().max()) for image, ref in zip(images, reference)
    )


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int_at_least(16), default=256)
    parser.add_argument("--rounds", type=int_at_least(1), default=3)
    parser.add_argument("--batch", type=int_at_least(1), default=64)
    parser.add_argument(
        "--out", help="output dir (default: logs/experiments/image_decoders/<time>)"
    )
    args = parser.parse_args(argv)
    out = output_dir("image_decoders", args.out)
    torch.set_num_threads(1)  # as in a loader worker
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    encoded = photo_like_jpegs(args.images)
    tensors = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in encoded]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tv_decode_jpeg(tensors[0])
    deprecation = next((str(w.message) for w in caught), "none")
    rows_of = {
        ("loader", "PIL (today)"): (pil_decoder, encoded, torch.device("cpu"), 1),
        ("loader", "torchvision.io (today's device path)"): (
            torchvision_one_by_one,
            tensors,
            torch.device("cpu"),
            1,
        ),
        ("device", f"torchvision.io batch on {device.type}"): (
            torchvision_batch(device),
            tensors,
            device,
            args.batch,
        ),
    }
    codec = torchcodec_decoders(device)
    if codec is not None:
        rows_of[("loader", "torchcodec")] = (codec[0], tensors, torch.device("cpu"), 1)
        rows_of[("device", f"torchcodec batch on {device.type}")] = (
            codec[1],
            tensors,
            device,
            args.batch,
        )
    reference = pil_decoder(encoded[:16])
    rates: dict[tuple[str, str], list[float]] = {key: [] for key in rows_of}
    with recorded(out):
        for decode, items, _, batch in rows_of.values():  # warm-up (nvJPEG's handles)
            decode(items[:batch])
        for _ in range(args.rounds):
            for key, (decode, items, where, batch) in rows_of.items():
                rates[key].append(rate(decode, items, where, batch))
        baseline = {
            "loader": statistics.median(rates[("loader", "PIL (today)")]),
            "device": statistics.median(
                rates[("device", f"torchvision.io batch on {device.type}")]
            ),
        }
        rows = [
            {
                "path": path,
                "decoder": name,
                "img/s": round(statistics.median(rates[(path, name)]), 1),
                "vs today": round(statistics.median(rates[(path, name)]) / baseline[path], 3),
                "max abs diff vs PIL": max_difference(decode, items, reference),
                "rounds": args.rounds,
            }
            for (path, name), (decode, items, _, _) in rows_of.items()
        ]
        table = write_table(rows, out / "image_decoders")
        notes = [
            f"Mean JPEG size: {np.mean([len(b) for b in encoded]) / 1024:.0f} KiB; "
            f"{args.images} images, batches of {args.batch} on the device path.",
            f"torchvision.io.decode_jpeg warns: {deprecation}",
            "TorchCodec: " + ("installed" if codec else "not installed (pip install torchcodec)"),
        ]
        (out / "notes.md").write_text("\n\n".join(notes) + "\n")
        print(table + "\n" + "\n".join(notes))
    return out


if __name__ == "__main__":
    main()
