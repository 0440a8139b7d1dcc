"""Speed, measured side by side in one run: plain PyTorch against the project's Lightning training,
the data pipelines against the model, and FLOP/s against a matmul peak.

    python -m experiments.benchmark [--image-size 224] [--batches 32 128] [--steps 10]
                                    [--block 1] [--compile] [--force-bf16]
                                    [--matmul-sizes 1024 2048 4096] [--matmul-window-s 1]

Training rows: the alexnet preset (torchvision's layout) on the same ready batches with the same
SGD optimizer, in a plain loop and through AlexNetModule and the Lightning Trainer (its metrics
and logging included), for fp32 / bf16-mixed, contiguous / channels_last, each batch size. The
two interleave in one process: after each block of Lightning steps the plain loop runs the same
block, so both see the same machine from moment to moment. Images/s come from the median block;
Lightning / plain is the median ratio of neighbouring blocks, IQR its interquartile range. The
first row pits the plain loop against a second copy of itself: how far from 1 a ratio strays
on this machine when nothing differs.
Where bf16 matmuls run far below fp32 (a CPU without native bf16), the bf16 rows are skipped and
the reason printed (--force-bf16 runs them anyway). Prints markdown tables; writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from alexnet import AlexNetDataModule, create_model
from experiments.benchmark_loops import (
    CLASSES,
    _sync,
    batches,
    interleaved_rates,
    plain_pairs,
    rates,
)
from experiments.lab.harness import int_at_least
from experiments.lab.jpeg_folder import write_jpeg_folder


def matmul_peak(
    dtype: torch.dtype,
    device: str,
    sizes: tuple[int, ...] = (1024, 2048, 4096),
    windows: int = 2,
    window_s: float = 1.0,
) -> float:
    """GFLOP/s of square matmuls in `dtype`: the best `window_s`-second window over `sizes`."""
    best = 0.0
    for size in sizes:
        a = torch.randn(size, size, device=device, dtype=dtype)
        b = torch.randn(size, size, device=device, dtype=dtype)
        a @ b
        for _ in range(windows):
            _sync(device)
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < window_s:
                a @ b
                count += 1
            _sync(device)
            best = max(best, 2 * size**3 * count / (time.perf_counter() - start) / 1e9)
    return best


def training_flops(image_size: int) -> float:
    """FLOPs of one training image: forward and backward, counted by torch's FlopCounterMode
    (the backward skips conv1's input gradient, so this is a little under 3 x forward)."""
    model = create_model("alexnet", num_classes=CLASSES)
    images = torch.zeros(1, 3, image_size, image_size)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(images), torch.zeros(1, dtype=torch.long)).backward()
    return float(counter.get_total_flops())


def loader_rate(datamodule: AlexNetDataModule, batches_to_read: int) -> float:
    """Images/s the training loader delivers (its workers warmed up by one batch)."""
    datamodule.setup("fit")
    iterator = iter(datamodule.train_dataloader())
    next(iterator)
    count, start = 0, time.perf_counter()
    for _ in range(batches_to_read):
        images, _ = next(iterator)
        count += images.shape[0]
    return count / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int_at_least(63), default=224)
    parser.add_argument("--batches", type=int_at_least(1), nargs="+", default=[32, 128])
    parser.add_argument("--steps", type=int_at_least(1), default=10, help="timed blocks per row")
    parser.add_argument("--warmup", type=int_at_least(0), default=2, help="untimed blocks per row")
    parser.add_argument(
        "--block",
        type=int_at_least(1),
        default=None,
        help="steps per block (default: 1 on a CPU, 10 on a GPU)",
    )
    parser.add_argument("--workers", type=int_at_least(0), nargs="+", default=[1, 2])
    parser.add_argument("--compile", action="store_true", help="torch.compile in every row")
    parser.add_argument("--force-bf16", action="store_true")
    parser.add_argument(
        "--matmul-sizes",
        type=int_at_least(16),
        nargs="+",
        default=[1024, 2048, 4096],
        help="square sizes of the matmul peak (bf16 without native support is "
        "slow: a 4096 product takes minutes on such a CPU)",
    )
    parser.add_argument(
        "--matmul-window-s",
        type=float,
        default=1.0,
        help="seconds of each timed matmul window (two per size and dtype)",
    )
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # keep the table readable
    device = "cuda" if torch.cuda.is_available() else "cpu"
    block = args.block if args.block is not None else (10 if device == "cuda" else 1)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(
        f"torch {torch.__version__} on {name}, {torch.get_num_threads()} threads, "
        f"{args.image_size} px, blocks of {block} step(s), {args.steps} timed blocks per row\n"
    )

    sizes, window_s = tuple(args.matmul_sizes), args.matmul_window_s
    fp32_peak = matmul_peak(torch.float32, device, sizes, window_s=window_s)
    bf16_peak = matmul_peak(torch.bfloat16, device, sizes, window_s=window_s)
    print(f"matmul peak: fp32 {fp32_peak:.0f} GFLOP/s, bf16 {bf16_peak:.0f} GFLOP/s")
    flops = training_flops(args.image_size)
    print(f"training FLOPs per image (forward + backward): {flops / 1e9:.2f} GFLOP\n")
    run_bf16 = args.force_bf16 or bf16_peak >= 0.5 * fp32_peak
    if not run_bf16:
        print(
            f"bf16 rows skipped: bf16 matmuls run at {bf16_peak / fp32_peak:.2f}x fp32 here "
            "(no native bf16 in this processor); --force-bf16 runs them\n"
        )

    print(
        "| precision | memory format | batch | plain img/s | Lightning img/s | "
        "Lightning / plain | IQR | % of matmul peak |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    batch = min(args.batches)
    data = batches(batch, args.image_size, block * (args.warmup + args.steps))
    first, second, ratio, spread = rates(
        plain_pairs(data, device, block)[args.warmup :], block * batch
    )
    print(
        f"| fp32 | contiguous | {batch} | {first:.1f} | (plain again) {second:.1f} | "
        f"{ratio:.3f} | {spread:.3f} | A/A: the method's noise floor |",
        flush=True,
    )
    consumption = 0.0
    for bf16 in (False, True):
        for channels_last in (False, True):
            for batch in args.batches:
                if bf16 and not run_bf16:
                    continue
                data = batches(batch, args.image_size, block * (args.warmup + args.steps))
                plain, framework, ratio, spread = interleaved_rates(
                    data, bf16, channels_last, device, args.compile, block, args.warmup
                )
                peak = bf16_peak if bf16 else fp32_peak
                used = 100 * framework * flops / 1e9 / peak
                print(
                    f"| {'bf16-mixed' if bf16 else 'fp32'} | "
                    f"{'channels_last' if channels_last else 'contiguous'} | {batch} | "
                    f"{plain:.1f} | {framework:.1f} | {ratio:.3f} | {spread:.3f} | {used:.0f}% |",
                    flush=True,
                )
                consumption = max(consumption, framework)
    print(f"\nbest Lightning setting: {consumption:.1f} img/s\n")

    print("| pipeline | workers | img/s | x the model's best consumption |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        root = write_jpeg_folder(Path(tmp), 4, 64, 1)
        for workers in args.workers:
            common = {
                "image_size": args.image_size,
                "batch_size": 32,
                "num_workers": workers,
                "persistent_workers": False,
            }
            synthetic = AlexNetDataModule(
                source="synthetic", num_classes=100, train_per_class=40, **common
            )
            rate = loader_rate(synthetic, 8)
            print(f"| synthetic | {workers} | {rate:.0f} | {rate / consumption:.1f}x |", flush=True)
            jpeg = AlexNetDataModule(
                source="imagefolder", root=str(root), augment="paper", **common
            )
            rate = loader_rate(jpeg, 6)
            print(
                f"| ImageFolder JPEG (paper augmentation) | {workers} | {rate:.0f} | "
                f"{rate / consumption:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
