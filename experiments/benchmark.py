"""Speed, measured side by side in one run: plain PyTorch against the project's Lightning training,
the data pipelines against the model, and FLOP/s against a matmul peak.

    python experiments/benchmark.py [--image-size 224] [--batches 32 128] [--steps 10]
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
from contextlib import nullcontext
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

from alexnet import AlexNetDataModule, AlexNetModule, create_model
from alexnet.optim import build_optimizer
from alexnet.reporting.harness import int_at_least
from alexnet.reporting.jpeg_folder import write_jpeg_folder

SGD = {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}
CLASSES = 1000


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


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def batches(batch: int, size: int, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [
        (
            torch.randn(batch, 3, size, size, generator=generator),
            torch.randint(0, CLASSES, (batch,), generator=generator),
        )
        for _ in range(count)
    ]


class PlainLoop:
    """The plain PyTorch training step: its own model and optimizer, the same batches."""

    def __init__(
        self, data: list, bf16: bool, channels_last: bool, device: str, compile: bool
    ) -> None:
        torch.manual_seed(0)
        # Page-locked like the framework's batches (its loader pins them for a CUDA device):
        # both copy to the GPU asynchronously, neither pays for pageable memory.
        self.data = (
            [(images.pin_memory(), labels.pin_memory()) for images, labels in data]
            if device == "cuda"
            else data
        )
        self.device = device
        self.memory = torch.channels_last if channels_last else torch.contiguous_format
        self.model = create_model("alexnet", num_classes=CLASSES).to(device)
        self.model.to(memory_format=self.memory)
        if compile:
            self.model.compile()
        self.optimizer = build_optimizer(self.model.parameters(), SGD)
        self.bf16 = bf16

    def step(self, index: int) -> None:
        images, labels = self.data[index]
        images = images.to(self.device, non_blocking=True).contiguous(memory_format=self.memory)
        labels = labels.to(self.device, non_blocking=True)
        autocast = torch.autocast(self.device, dtype=torch.bfloat16) if self.bf16 else nullcontext()
        with autocast:
            loss = F.cross_entropy(self.model(images), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


class Interleave(L.Callback):
    """Runs the plain loop on the same batches between blocks of `block` Lightning steps.

    Blocks alternate order (Lightning then plain, plain then Lightning, ...), so that neither
    side always runs second. Everything Lightning does in a block (fetching batches, hooks,
    logging, metrics, the steps) is timed as Lightning's; the plain blocks are timed apart.
    Neighbouring blocks see the same machine, so drift and noisy neighbours hit both alike.
    """

    def __init__(self, plain: PlainLoop, block: int) -> None:
        self.plain, self.block = plain, block
        self.mark, self.plain_first = 0.0, 0.0
        self.pairs: list[tuple[float, float]] = []  # (plain s, Lightning s) per block

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        _sync(trainer.strategy.root_device.type)
        self.mark = time.perf_counter()

    def on_train_batch_start(
        self, trainer: L.Trainer, module: L.LightningModule, batch: object, batch_idx: int
    ) -> None:
        if batch_idx % self.block == 0 and batch_idx // self.block % 2:  # odd blocks: plain first
            self.plain_first = self._plain_block(batch_idx, trainer)

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        module: L.LightningModule,
        outputs: object,
        batch: object,
        batch_idx: int,
    ) -> None:
        if (batch_idx + 1) % self.block:
            return
        _sync(trainer.strategy.root_device.type)
        now = time.perf_counter()
        if batch_idx // self.block % 2:
            self.pairs.append((self.plain_first, now - self.mark - self.plain_first))
            self.mark = now
        else:
            plain = self._plain_block(batch_idx + 1 - self.block, trainer)
            self.pairs.append((plain, now - self.mark))
            self.mark = time.perf_counter()

    def _plain_block(self, first: int, trainer: L.Trainer) -> float:
        return timed_block(self.plain, first, self.block, trainer.strategy.root_device.type)


def timed_block(loop: PlainLoop, first: int, block: int, device: str) -> float:
    """Seconds `loop` takes for steps first .. first + block - 1, the device synced."""
    _sync(device)
    start = time.perf_counter()
    for index in range(first, first + block):
        loop.step(index)
    _sync(device)
    return time.perf_counter() - start


def plain_pairs(data: list, device: str, block: int) -> list[tuple[float, float]]:
    """Two identical plain loops (fp32, contiguous) alternating as Lightning and plain do:
    their ratio is the method's noise floor."""
    first, second = (PlainLoop(data, False, False, device, False) for _ in range(2))
    pairs = []
    for index in range(0, len(data), block):
        order = (second, first) if index // block % 2 else (first, second)
        seconds = {id(loop): timed_block(loop, index, block, device) for loop in order}
        pairs.append((seconds[id(first)], seconds[id(second)]))
    return pairs


def rates(pairs: list[tuple[float, float]], images: int) -> tuple[float, float, float, float]:
    """From (reference s, candidate s) per block: each side's images/s (its median block), the
    median of the per-block ratios candidate rate / reference rate, and their IQR."""
    reference, candidate = np.array(pairs).T
    ratios = reference / candidate
    low, high = np.percentile(ratios, [25, 75])
    return (
        images / np.median(reference),
        images / np.median(candidate),
        float(np.median(ratios)),
        float(high - low),
    )


def interleaved_rates(
    data: list, bf16: bool, channels_last: bool, device: str, compile: bool, block: int, warmup: int
) -> tuple[float, float, float, float]:
    """Plain and Lightning images/s, Lightning / plain and its IQR (see `rates`)."""
    torch._dynamo.reset()  # every row compiles fresh models; stay under dynamo's recompile limit
    module = AlexNetModule(
        model={"preset": "alexnet", "num_classes": CLASSES},
        optimizer=SGD,
        channels_last=channels_last,
        compile=compile,
    )
    interleave = Interleave(PlainLoop(data, bf16, channels_last, device, compile), block)
    trainer = L.Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        precision="bf16-mixed" if bf16 else "32-true",
        max_steps=len(data),
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[interleave],
    )
    loader = DataLoader(data, batch_size=None, pin_memory=device == "cuda")  # the ready batches
    trainer.fit(module, loader)
    return rates(interleave.pairs[warmup:], block * data[0][0].shape[0])


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
