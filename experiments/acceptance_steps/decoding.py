"""Step 3, decoding and rendering on the device: JPEGs decoded there equal the reference with
memory flat over many decodes; synthetic batches drawn there equal the CPU's; torchvision's and
TorchCodec's decoders side by side (experiments/image_decoders.py)."""

from __future__ import annotations

import resource
from pathlib import Path

import torch

from .checks import Checks


# 3 ------------------------------------------------------------------------------------------
def encoded_jpegs(count: int) -> list[torch.Tensor]:
    """Photo-like 500x375 JPEG files' bytes (experiments.lab.jpeg_folder), as tensors."""
    from experiments.lab.jpeg_folder import photo_like_jpegs

    return [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in photo_like_jpegs(count)]


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def decode_render(checks: Checks, work: Path) -> None:
    from torchvision.io import ImageReadMode, decode_jpeg

    from alexnet.data.encoded import decode_batch
    from alexnet.data.synthetic import SyntheticImageNet

    device = torch.device(checks.device)

    def decode() -> None:
        files = encoded_jpegs(8)
        reference = [decode_jpeg(f, mode=ImageReadMode.RGB) for f in files]  # libjpeg, CPU
        if checks.device == "cpu":  # the CPU reference against PIL's decoder instead
            import numpy as np
            from PIL import Image

            reference = [
                torch.from_numpy(
                    np.asarray(
                        Image.open(__import__("io").BytesIO(f.numpy().tobytes())).convert("RGB")
                    )
                ).permute(2, 0, 1)
                for f in files
            ]
        decoded = decode_batch(files, device)
        worst = max(int((a.cpu().int() - b.int()).abs().max()) for a, b in zip(decoded, reference))
        checks.check(
            f"decoded on {checks.device} equals the reference within 3/255",
            worst <= 3,
            f"largest difference {worst}/255 over 8 images of 500x375",
        )
        measure = (
            (lambda: torch.cuda.memory_allocated(device) / 2**20)
            if device.type == "cuda"
            else rss_mib
        )
        for _ in range(20):
            decode_batch(files[:4], device)
        before = measure()
        for _ in range(50):  # 200 decodes
            decode_batch(files[:4], device)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        grown = measure() - before
        checks.check(
            "memory flat over 200 decodes",
            grown < 16,
            f"{'allocated' if device.type == 'cuda' else 'RSS'} grew {grown:.1f} MiB",
        )

    def render() -> None:
        cpu = torch.device("cpu")
        for difficulty in ("easy", "hard"):
            data = SyntheticImageNet(
                10, 4, 64, seed=0, split="val", deferred=True, difficulty=difficulty
            )
            indices = list(range(24))
            clean = [
                data.render_batch(indices, where, random_fields=False).cpu()
                for where in (device, cpu)
            ]
            worst = float((clean[0] - clean[1]).abs().max())
            checks.check(
                f"{difficulty}: a batch drawn on {checks.device} equals the CPU's but "
                "for the random fields",
                worst < 1e-3,
                f"largest difference {worst:.2e}",
            )
            spread = [
                float((data.render_batch(indices, where).cpu() - plain).std())
                for where, plain in zip((device, cpu), clean)
            ]
            checks.check(
                f"{difficulty}: its random fields as strong as the CPU's",
                abs(spread[0] / spread[1] - 1) < 0.1,
                f"std of the fields' contribution {spread[0]:.4f} against {spread[1]:.4f}",
            )
            loader = SyntheticImageNet(10, 4, 64, seed=0, split="val", difficulty=difficulty)
            images = torch.stack([loader[i][0] for i in indices])
            worst = float((data.render_batch(indices, cpu) - images).abs().max())
            checks.check(
                f"{difficulty}: a batch drawn on the CPU is the loader's images",
                worst < 1e-5,
                f"largest difference {worst:.2e}",
            )

    def compare_decoders() -> None:
        """experiments/image_decoders.py here: torchvision's decoders against TorchCodec's
        (nvJPEG on a GPU), the figures the lab's choice of decoder rests on."""
        import csv

        from experiments import image_decoders

        size = ["--images", "256", "--rounds", "3"] if device.type == "cuda" else []
        size = size or ["--images", "32", "--rounds", "1", "--batch", "16"]
        out = image_decoders.main([*size, "--out", str(work / "image_decoders")])
        with (out / "image_decoders.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        checks.info["image_decoders"] = rows
        checks.check(
            "TorchCodec and torchvision decode the same pixels on both paths",
            len(rows) == 5 and all(int(r["max abs diff vs PIL"]) <= 3 for r in rows),
            "; ".join(f"{r['decoder']}: {r['img/s']} img/s ({r['vs today']}x)" for r in rows),
        )

    checks.attempt("JPEG decoding", decode)
    checks.attempt("batch rendering", render)
    checks.attempt("decoder comparison", compare_decoders)
