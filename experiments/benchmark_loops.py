"""The training rows of experiments/benchmark.py: a plain PyTorch loop and the project's Lightning
training on the same ready batches, interleaved block by block in one process, and the rates and
ratio read from their timed blocks (the GPU acceptance script's throughput step uses them too).
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from alexnet import AlexNetModule, create_model
from alexnet.training.optim import build_optimizer

SGD = {"name": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 5e-4}
CLASSES = 1000


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
    torch.compiler.reset()  # every row compiles fresh models; stay under dynamo's recompile limit
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
