"""Speed, measured side by side in one run: plain PyTorch against the project's Lightning training,
the data pipelines against the model, and FLOP/s against a matmul peak.

    python experiments/benchmark.py [--image-size 224] [--batches 32 128] [--steps 5]
                                    [--compile] [--force-bf16]

Training rows: the alexnet preset (torchvision's layout) on the same ready batches with the same
SGD optimizer, in a plain loop and through AlexNetModule and the Lightning Trainer (its metrics
and logging included), alternating --repeats times (the best of each counts), for fp32 /
bf16-mixed, contiguous / channels_last, each batch size.
Where bf16 matmuls run far below fp32 (a CPU without native bf16), the bf16 rows are skipped and
the reason printed (--force-bf16 runs them anyway). Prints markdown tables; writes nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader

from alexnet import AlexNetDataModule, AlexNetModule, create_model, summarize
from alexnet.optim import build_optimizer

SGD = {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}
CLASSES = 1000


def matmul_peak(dtype: torch.dtype, device: str, size: int = 4096, windows: int = 3) -> float:
    """GFLOP/s of square matmuls in `dtype`: the best of `windows` one-second windows."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    best = 0.0
    for _ in range(windows):
        _sync(device)
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            a @ b
            count += 1
        _sync(device)
        best = max(best, 2 * size**3 * count / (time.perf_counter() - start) / 1e9)
    return best


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def batches(batch: int, size: int, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(batch, 3, size, size, generator=generator),
             torch.randint(0, CLASSES, (batch,), generator=generator)) for _ in range(count)]


def plain_rate(data: list, bf16: bool, channels_last: bool, device: str, compile: bool,
               warmup: int) -> float:
    """Images/s of a plain PyTorch training loop over `data` (after `warmup` steps)."""
    torch.manual_seed(0)
    model = create_model("alexnet", num_classes=CLASSES).to(device)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=memory)
    if compile:
        model.compile()
    optimizer = build_optimizer(model.parameters(), SGD)
    autocast = torch.autocast(device, dtype=torch.bfloat16) if bf16 else nullcontext()
    start = 0.0
    for index, (images, labels) in enumerate(data):
        if index == warmup:
            _sync(device)
            start = time.perf_counter()
        images = images.to(device, non_blocking=True).contiguous(memory_format=memory)
        labels = labels.to(device, non_blocking=True)
        with autocast:
            loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    _sync(device)
    return (len(data) - warmup) * data[0][0].shape[0] / (time.perf_counter() - start)


class _StepTimer(L.Callback):
    """Wall time from the start of batch `warmup` to the end of the last batch."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end = warmup, 0.0, 0.0

    def on_train_batch_start(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step == self.warmup:
            _sync(trainer.strategy.root_device.type)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        _sync(trainer.strategy.root_device.type)
        self.end = time.perf_counter()


def lightning_rate(data: list, bf16: bool, channels_last: bool, device: str, compile: bool,
                   warmup: int) -> float:
    """Images/s of AlexNetModule in the Lightning Trainer over the same batches."""
    torch.manual_seed(0)
    module = AlexNetModule(model={"preset": "alexnet", "num_classes": CLASSES}, optimizer=SGD,
                           channels_last=channels_last, compile=compile)
    timer = _StepTimer(warmup)
    trainer = L.Trainer(accelerator="gpu" if device == "cuda" else "cpu", devices=1,
                        precision="bf16-mixed" if bf16 else "32-true", max_steps=len(data),
                        limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer])
    loader = DataLoader(data, batch_size=None, pin_memory=device == "cuda")  # the ready batches
    trainer.fit(module, loader)
    return (len(data) - warmup) * data[0][0].shape[0] / (timer.end - timer.start)


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


def jpeg_folder(root: Path, classes: int = 4, per_class: int = 64) -> Path:
    """An ImageFolder of ImageNet-sized JPEGs (500x375)."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = root / "train" / f"c{c}"
        folder.mkdir(parents=True)
        (root / "val" / f"c{c}").mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (375, 500, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.jpg", quality=90)
        Image.fromarray(pixels).save(root / "val" / f"c{c}" / "0.jpg")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per row")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2,
                        help="plain and Lightning alternate this often; the best of each counts")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--compile", action="store_true", help="torch.compile in every row")
    parser.add_argument("--force-bf16", action="store_true")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"torch {torch.__version__} on {name}, {torch.get_num_threads()} threads, "
          f"{args.image_size} px\n")

    fp32_peak = matmul_peak(torch.float32, device)
    bf16_peak = matmul_peak(torch.bfloat16, device)
    print(f"matmul peak: fp32 {fp32_peak:.0f} GFLOP/s, bf16 {bf16_peak:.0f} GFLOP/s")
    flops = 3 * summarize(create_model("alexnet", num_classes=CLASSES), args.image_size).flops
    print(f"training FLOPs per image (3 x forward): {flops / 1e9:.2f} GFLOP\n")
    run_bf16 = args.force_bf16 or bf16_peak >= 0.5 * fp32_peak
    if not run_bf16:
        print(f"bf16 rows skipped: bf16 matmuls run at {bf16_peak / fp32_peak:.2f}x fp32 here "
              "(no native bf16 in this processor); --force-bf16 runs them\n")

    print("| precision | memory format | batch | plain img/s | Lightning img/s | "
          "Lightning / plain | % of matmul peak |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    best, consumption = 0.0, 0.0
    for bf16 in (False, True):
        for channels_last in (False, True):
            for batch in args.batches:
                if bf16 and not run_bf16:
                    continue
                data = batches(batch, args.image_size, args.warmup + args.steps)
                plain, framework = 0.0, 0.0
                for _ in range(args.repeats):  # alternate, so that drift hits both alike
                    plain = max(plain, plain_rate(data, bf16, channels_last, device,
                                                  args.compile, args.warmup))
                    framework = max(framework, lightning_rate(data, bf16, channels_last, device,
                                                              args.compile, args.warmup))
                peak = bf16_peak if bf16 else fp32_peak
                used = 100 * framework * flops / 1e9 / peak
                print(f"| {'bf16-mixed' if bf16 else 'fp32'} | "
                      f"{'channels_last' if channels_last else 'contiguous'} | {batch} | "
                      f"{plain:.1f} | {framework:.1f} | {framework / plain:.3f} | {used:.0f}% |",
                      flush=True)
                best = max(best, framework)
                consumption = max(consumption, framework)
    print(f"\nbest Lightning setting: {best:.1f} img/s\n")

    print("| pipeline | workers | img/s | x the model's best consumption |")
    print("| --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        root = jpeg_folder(Path(tmp))
        for workers in args.workers:
            common = {"image_size": args.image_size, "batch_size": 32, "num_workers": workers,
                      "persistent_workers": False}
            synthetic = AlexNetDataModule(source="synthetic", num_classes=100,
                                          train_per_class=40, **common)
            rate = loader_rate(synthetic, 8)
            print(f"| synthetic | {workers} | {rate:.0f} | {rate / consumption:.1f}x |", flush=True)
            jpeg = AlexNetDataModule(source="imagefolder", root=str(root), augment="paper",
                                     **common)
            rate = loader_rate(jpeg, 6)
            print(f"| ImageFolder JPEG (paper augmentation) | {workers} | {rate:.0f} | "
                  f"{rate / consumption:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
