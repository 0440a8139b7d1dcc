"""Steps 5, 6 and 8, speed: images/s of the device data paths, compiled against eager, and the
framework's training loop against plain PyTorch's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L
import torch

from alexnet.config.compose import compose_config
from alexnet.run.api import train

from .checks import Checks, overrides


# 5 ------------------------------------------------------------------------------------------
class Rate(L.Callback):
    """Training images/s from the end of the first batch to the end of the last, device synced
    at both ends only."""

    rates: list[float] = []

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if batch_idx == 0:
            self._sync(pl_module)
            self._start, self._images = time.perf_counter(), 0
        else:
            self._images += len(batch[1])

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._sync(pl_module)
        type(self).rates.append(self._images / (time.perf_counter() - self._start))

    @staticmethod
    def _sync(pl_module: L.LightningModule) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)


def rate_of(checks: Checks, work: Path, name: str, *extra: str) -> float | None:
    Rate.rates = []
    rate = "+callbacks.rate._target_=experiments.acceptance_steps.speed.Rate"
    record = train(
        compose_config(
            overrides(checks.device, "trainer.max_epochs=1", rate, *extra), output_dir=work / name
        )
    )
    done = record["status"] == "completed" and Rate.rates
    checks.check(f"{name} run completes", bool(done), record["status"])
    return Rate.rates[-1] if done else None


def device_data(checks: Checks, work: Path) -> None:
    from experiments.lab.jpeg_folder import write_jpeg_folder

    workers = "data.num_workers=2"
    rates = {"loader": rate_of(checks, work, "loader", workers, "data.cache=false")}
    rates["render_on=device"] = rate_of(checks, work, "render_on=device", "data.render_on=device")
    cuda = checks.device == "cuda"
    jpegs = write_jpeg_folder(work / "jpegs", 10 if cuda else 3, 64 if cuda else 12, 4)
    rates["decode=device"] = rate_of(
        checks,
        work,
        "decode=device",
        "data=imagefolder",
        f"data.root={jpegs}",
        "data.decode=device",
        workers,
    )
    checks.info["img_per_s"] = {k: round(v, 1) for k, v in rates.items() if v}
    if all(rates.values()):
        checks.check(
            "images/s measured",
            True,
            ", ".join(f"{k} {v:.0f}" for k, v in rates.items()) + " img/s",
        )


# 6 ------------------------------------------------------------------------------------------
def compile_step(checks: Checks, work: Path) -> None:
    from torch._dynamo.utils import counters  # dynamo's statistics: no public accessor

    backend = "inductor" if checks.device == "cuda" else "aot_eager"
    rates = {}
    for compiled in (False, True):
        torch.compiler.reset()
        counters.clear()
        Rate.rates = []
        record = train(
            compose_config(
                overrides(
                    checks.device,
                    "trainer.max_epochs=3",
                    "callbacks=interpret",
                    f"compile={str(compiled).lower()}",
                    f"compile_backend={backend}",
                    "+callbacks.rate._target_=experiments.acceptance_steps.speed.Rate",
                ),
                output_dir=work / str(compiled),
            )
        )
        rates[compiled] = max(Rate.rates[1:])  # the first epoch compiles
        if compiled:
            graphs = counters["stats"]["unique_graphs"]
            checks.check("compile=true completes 3 epochs", record["status"] == "completed")
            checks.check(
                "fewer than 8 compiled graphs with callbacks=interpret",
                graphs < 8,
                f"{graphs} graphs ({backend})",
            )
    ratio = rates[True] / rates[False]
    detail = f"compiled {rates[True]:.0f} img/s, eager {rates[False]:.0f}: {ratio:.2f}x"
    checks.info["compiled_over_eager"] = round(ratio, 3)
    if checks.device == "cuda":
        checks.check("compiled not slower than eager", ratio >= 0.97, detail)
    else:
        checks.skip("compiled not slower than eager", f"speed is asserted on a GPU ({detail})")


# 8 ------------------------------------------------------------------------------------------
def throughput(checks: Checks, work: Path) -> None:
    from experiments import benchmark_loops

    cuda = checks.device == "cuda"
    batch, size, block, steps = (256, 224, 10, 8) if cuda else (8, 64, 1, 6)
    data = benchmark_loops.batches(batch, size, block * (2 + steps))
    plain, framework, ratio, spread = benchmark_loops.interleaved_rates(
        data, cuda, True, checks.device, False, block, 2
    )
    name = torch.cuda.get_device_name() if cuda else "CPU"
    checks.info["img_per_s"] = {
        "device": name,
        "plain": round(plain, 1),
        "framework": round(framework, 1),
        "batch": batch,
        "size": size,
    }
    detail = (
        f"{'bf16-mixed' if cuda else 'fp32'} channels_last, batch {batch} at {size} px on "
        f"{name}: framework {framework:.0f} img/s, plain {plain:.0f}: {ratio:.3f} "
        f"(IQR {spread:.3f})"
    )
    if cuda:
        checks.check("framework / plain PyTorch >= 0.97", ratio >= 0.97, detail)
    else:
        checks.check("both loops measured", plain > 0 and framework > 0, detail)
