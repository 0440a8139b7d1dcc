"""Synthetic generator images/s per worker beside the model's training images/s, in one run.

python -m experiments.data_throughput [--image-size 112] [--batch-size 64] [--steps 6]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from alexnet import create_model
from alexnet.data import SyntheticImageNet
from alexnet.training.optim import build_optimizer

_threads = torch.get_num_threads()


def generator_rate(image_size: int, count: int) -> float:
    """Images/s of one worker (one thread) rendering synthetic images."""
    torch.set_num_threads(1)
    data = SyntheticImageNet(10, count, image_size)
    data[0]
    start = time.perf_counter()
    for index in range(count):
        data[index]
    rate = count / (time.perf_counter() - start)
    torch.set_num_threads(_threads)
    return rate


def model_rate(image_size: int, batch_size: int, steps: int) -> float:
    """Training images/s of the alexnet preset (fused AdamW, fp32) on ready batches."""
    model = create_model("alexnet", num_classes=10)
    optimizer = build_optimizer(model.parameters(), {"name": "adamw", "lr": 2e-4})
    images = torch.randn(batch_size, 3, image_size, image_size)
    labels = torch.randint(0, 10, (batch_size,))

    def step() -> None:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, nargs="+", default=[112, 224])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {_threads} threads for the model, 1 per data worker")
    print("| image size | generator img/s per worker | model training img/s | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for size in args.image_size:
        data = generator_rate(size, args.images)
        model = model_rate(size, args.batch_size, args.steps)
        print(f"| {size} | {data:.0f} | {model:.1f} | {data / model:.1f}x |")


if __name__ == "__main__":
    main()
