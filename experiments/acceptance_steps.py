"""The steps of experiments/gpu_acceptance.py, each run by `run_step` in a process of its own
(forked by the driver, which imported all this once): each writes {"checks": [{"name",
"status": passed|failed|skipped, "detail"}], "info": {...}} to its result file. On the CPU the
sizes are tiny and what needs CUDA is skipped with the reason. Nothing here touches CUDA at
import: the driver forks after importing this module.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lightning as L  # noqa: E402
import torch  # noqa: E402

from alexnet import AlexNetModule  # noqa: E402
from alexnet.callbacks.divergence import DivergenceGuard  # noqa: E402
from alexnet.config import compose_config  # noqa: E402
from alexnet.run import train  # noqa: E402

# The run each step trains: the defaults on a GPU; the mini preset on tiny images on the CPU.
SIZES = {
    "cuda": ["trainer=gpu"],
    "cpu": [
        "trainer=cpu",
        "model=mini",
        "data.image_size=64",
        "data.num_classes=3",
        "data.train_per_class=24",
        "data.val_per_class=8",
        "data.test_per_class=8",
        "data.batch_size=8",
        "data.num_workers=0",
        "optimizer.lr=0.003",
    ],
}


class Checks:
    """The checks of one step and the figures it records."""

    def __init__(self, device: str) -> None:
        self.device, self.items, self.info = device, [], {}

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.items.append(
            {"name": name, "status": "passed" if passed else "failed", "detail": detail}
        )
        return passed

    def skip(self, name: str, why: str) -> None:
        self.items.append({"name": name, "status": "skipped", "detail": why})

    def attempt(self, name: str, body: Callable[[], None]) -> None:
        """Run `body` (which records its own checks); an exception fails `name` with its line."""
        try:
            body()
        except Exception as err:  # noqa: BLE001 - any error is this check's failure
            traceback.print_exc()
            self.check(name, False, f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")

    def cuda_only(self, name: str) -> bool:
        if self.device == "cuda":
            return True
        self.skip(name, "needs CUDA")
        return False


def overrides(device: str, *extra: str) -> list[str]:
    return [*SIZES[device], "test=false", "checkpoint_every_n_steps=0", *extra]


def run_cli(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def last_line(done: subprocess.CompletedProcess) -> str:
    """What a failed command said last (nothing for one that succeeded)."""
    if done.returncode == 0:
        return ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1][:300] if lines else f"exit {done.returncode}"


# 1 ------------------------------------------------------------------------------------------
def probe(checks: Checks, work: Path) -> None:
    checks.info["torch"], checks.info["cuda"] = torch.__version__, torch.version.cuda
    if checks.device == "cpu":
        checks.check(
            "torch runs a matmul", bool(torch.ones(2, 2).matmul(torch.ones(2, 2))[0, 0] == 2)
        )
        checks.check("gloo available", torch.distributed.is_gloo_available())
        checks.skip("GPU name, memory, bf16, NCCL", "needs CUDA")
        return
    props = torch.cuda.get_device_properties(0)
    checks.info.update(
        gpu=props.name,
        memory_gib=round(props.total_memory / 2**30, 1),
        bf16=torch.cuda.is_bf16_supported(),
        gpus=torch.cuda.device_count(),
        nccl=".".join(map(str, torch.cuda.nccl.version())),
    )
    checks.check(
        "a GPU with memory",
        props.total_memory > 0,
        f"{props.name}, {checks.info['memory_gib']} GiB",
    )
    checks.check("bf16 supported", checks.info["bf16"])
    checks.check(
        "NCCL available", torch.distributed.is_nccl_available(), f"NCCL {checks.info['nccl']}"
    )


# 2 ------------------------------------------------------------------------------------------
class SyncCounter(L.Callback):
    """Host syncs from the start of training to its end: on CUDA the synchronizing calls
    torch.cuda.set_sync_debug_mode reports; on the CPU the Python calls that would sync."""

    calls = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        type(self).calls = 0
        self.cuda = pl_module.device.type == "cuda"
        if self.cuda:
            self._caught = warnings.catch_warnings(record=True)
            self._seen = self._caught.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            return
        self._originals = {
            name: getattr(torch.Tensor, name)
            for name in ("item", "__bool__", "tolist", "cpu", "numpy")
        }
        for name, original in self._originals.items():
            setattr(torch.Tensor, name, _counted(original))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.cuda:
            torch.cuda.set_sync_debug_mode("default")
            type(self).calls = sum("synchroniz" in str(w.message) for w in self._seen)
            self._caught.__exit__(None, None, None)
            return
        for name, original in self._originals.items():
            setattr(torch.Tensor, name, original)


def _counted(original: Callable) -> Callable:
    def counted(*args: Any, **kwargs: Any) -> Any:
        SyncCounter.calls += 1
        return original(*args, **kwargs)

    return counted


class InjectNaN(L.Callback):
    """A NaN in the first weight's gradient at step 3."""

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 3:
            next(pl_module.parameters()).grad.fill_(math.nan)


def tiny_module(device: str) -> AlexNetModule:
    return AlexNetModule(
        model={"preset": "alexnet" if device == "cuda" else "mini", "num_classes": 10}
    )


def tiny_fit(
    module: AlexNetModule,
    device: str,
    work: Path,
    steps: int,
    precision: str = "32-true",
    callbacks: list | None = None,
    **trainer: Any,
) -> int:
    """A direct fit on random batches (no data pipeline): the steps it made."""
    size = 112 if device == "cuda" else 64
    generator = torch.Generator().manual_seed(0)
    data = [
        (
            torch.randn(16, 3, size, size, generator=generator),
            torch.randint(0, 10, (16,), generator=generator),
        )
        for _ in range(steps)
    ]
    fit = L.Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        precision=precision,
        max_steps=steps,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=5,
        default_root_dir=str(work),
        callbacks=[DivergenceGuard("deferred"), *(callbacks or [])],
        **trainer,
    )
    fit.fit(module, torch.utils.data.DataLoader(data, batch_size=None))
    return fit.global_step


def precision(checks: Checks, work: Path) -> None:
    device = checks.device

    def syncs() -> None:
        counts = {}
        for steps in (4, 10):
            train(
                compose_config(
                    overrides(
                        device,
                        "data.train_per_class=64",
                        "trainer.max_epochs=1",
                        f"trainer.max_steps={steps}",
                        "trainer.limit_val_batches=0",
                        "trainer.log_every_n_steps=1000",
                        "divergence_check=deferred",
                        "+callbacks.sync_counter._target_=acceptance_steps.SyncCounter",
                    ),
                    output_dir=work / f"syncs_{steps}",
                )
            )
            counts[steps] = SyncCounter.calls
        checks.check(
            "no host sync in non-logging steps",
            counts[4] == counts[10],
            f"syncs over 4 steps: {counts[4]}, over 10: {counts[10]} (each step that "
            "synced would add one)",
        )

    def nan() -> None:
        from alexnet.callbacks.divergence import DivergenceError

        module, error = tiny_module(device), None
        try:
            tiny_fit(module, device, work / "nan", 10, callbacks=[InjectNaN()])
        except DivergenceError as err:
            error = err
        checks.check(
            "a NaN gradient stops the run",
            error is not None,
            str(error).split(";")[0] if error else "no DivergenceError",
        )
        checks.check(
            "the weights stay finite",
            all(bool(torch.isfinite(p).all()) for p in module.parameters()),
        )

    def fp16() -> None:
        if not checks.cuda_only("16-mixed with the fused optimizer: 20 steps, no false divergence"):
            return
        module = tiny_module(device)
        steps = tiny_fit(module, device, work / "fp16", 20, precision="16-mixed")
        scale = float(module.trainer.precision_plugin.scaler.get_scale())
        checks.check(
            "16-mixed with the fused optimizer: 20 steps, no false divergence",
            steps == 20,
            f"{steps} steps, loss scale {scale}",
        )

    def bf16_clip() -> None:
        steps = tiny_fit(
            tiny_module(device),
            device,
            work / "bf16",
            20,
            precision="bf16-mixed",
            gradient_clip_val=1.0,
        )
        checks.check("bf16-mixed with gradient clipping: 20 steps", steps == 20, f"{steps} steps")

    checks.attempt("no host sync in non-logging steps", syncs)
    checks.attempt("a NaN gradient stops the run", nan)
    checks.attempt("16-mixed with the fused optimizer", fp16)
    checks.attempt("bf16-mixed with gradient clipping", bf16_clip)


# 3 ------------------------------------------------------------------------------------------
def encoded_jpegs(count: int, size: tuple[int, int] = (375, 500)) -> list[torch.Tensor]:
    """Photo-like JPEG files' bytes: smooth colour gradients with some texture."""
    import io

    import numpy as np
    from PIL import Image

    rng, files = np.random.default_rng(0), []
    y, x = np.mgrid[0 : size[0], 0 : size[1]] / max(size)
    for _ in range(count):
        a, b, c = rng.random(3) * 6
        pixels = np.stack([np.sin(a * x + b * y), np.cos(b * x - c * y), np.sin(c * x * y + a)])
        pixels = (127.5 + 100 * pixels + rng.normal(0, 12, pixels.shape)).clip(0, 255)
        buffer = io.BytesIO()
        Image.fromarray(pixels.transpose(1, 2, 0).astype(np.uint8)).save(buffer, "JPEG", quality=90)
        files.append(torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8))
    return files


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

    checks.attempt("JPEG decoding", decode)
    checks.attempt("batch rendering", render)


# 4 ------------------------------------------------------------------------------------------
def image_tags(run: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags: set[str] = set()
    for events in run.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events), size_guidance={"images": 1})
        accumulator.Reload()
        tags |= set(accumulator.Tags()["images"])
    return tags


def train_eval_resume(checks: Checks, work: Path) -> None:
    run, resumed, evaluated = work / "run", work / "resumed", work / "eval"
    common = [*SIZES[checks.device], "callbacks=interpret", "checkpoint_every_n_steps=0"]
    if checks.device == "cpu":
        common += ["data.train_per_class=48", "data.test_per_class=16"]
    done = run_cli("train.py", *common, "trainer.max_epochs=2", f"hydra.run.dir={run}")
    if not checks.check(
        "2 epochs with callbacks=interpret complete", done.returncode == 0, last_line(done)
    ):
        return
    record = json.loads((run / "metrics.json").read_text())
    classes = 3 if checks.device == "cpu" else 10
    test = record["metrics"]["test/acc1"]
    images = (16 if checks.device == "cpu" else 30) * classes
    chance = 1 / classes + 3 * math.sqrt(1 / classes * (1 - 1 / classes) / images)
    checks.check(
        "test top-1 above chance",
        test > chance,
        f"test/acc1 {test:.3f}; chance + 3 sd {chance:.3f}",
    )
    tags = image_tags(run)
    wanted = {"filters/conv1", "feature_maps/inputs"}
    cam = sorted(tag for tag in tags if "cam" in tag.lower())
    checks.check(
        "pictures in the event file",
        wanted <= tags and bool(cam),
        f"{len(tags)} image tags, Grad-CAM: {', '.join(cam[:2]) or 'none'}",
    )
    done = run_cli(
        "eval.py",
        f"ckpt_path={record['best_checkpoint']}",
        "split=test",
        f"hydra.run.dir={evaluated}",
    )
    if checks.check("eval.py runs", done.returncode == 0, last_line(done)):
        again = json.loads((evaluated / "metrics.json").read_text())["metrics"]["test/acc1"]
        checks.check(
            "eval.py reproduces the test metrics",
            abs(again - test) < 1e-6,
            f"test/acc1 {again:.4f} against {test:.4f}",
        )
    done = run_cli(
        "train.py", *common, "trainer.max_epochs=3", f"ckpt_path={run}", f"hydra.run.dir={resumed}"
    )
    if checks.check("resuming runs", done.returncode == 0, last_line(done)):
        steps = json.loads((resumed / "metrics.json").read_text())["global_step"]
        expected = record["global_step"] * 3 // 2
        checks.check(
            "resuming continues the step count",
            steps == expected,
            f"{record['global_step']} steps, then {steps} (expected {expected})",
        )


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
    rate = "+callbacks.rate._target_=acceptance_steps.Rate"
    record = train(
        compose_config(
            overrides(checks.device, "trainer.max_epochs=1", rate, *extra), output_dir=work / name
        )
    )
    done = record["status"] == "completed" and Rate.rates
    checks.check(f"{name} run completes", bool(done), record["status"])
    return Rate.rates[-1] if done else None


def device_data(checks: Checks, work: Path) -> None:
    from alexnet.reporting.jpeg_folder import write_jpeg_folder

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
        torch._dynamo.reset()
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
                    "+callbacks.rate._target_=acceptance_steps.Rate",
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


# 7 ------------------------------------------------------------------------------------------
def ddp_sweep(checks: Checks, work: Path) -> None:
    trainer = (
        ["trainer=ddp_gpu", "trainer.devices=1"] if checks.device == "cuda" else ["trainer=ddp"]
    )
    sizes = [o for o in SIZES[checks.device] if not o.startswith("trainer=")]
    done = run_cli(
        "train.py",
        "-m",
        *sizes,
        *trainer,
        "seed=0,1",
        "trainer.max_epochs=1",
        "test=false",
        f"hydra.sweep.dir={work / 'sweep'}",
        timeout=600,
    )
    checks.check("the sweep exits 0", done.returncode == 0, last_line(done))
    summary = work / "sweep" / "sweep.json"
    jobs = json.loads(summary.read_text()) if summary.exists() else []
    statuses = [job.get("status") for job in jobs]
    checks.check("two DDP jobs completed", statuses == ["completed"] * 2, f"statuses {statuses}")


# 8 ------------------------------------------------------------------------------------------
def throughput(checks: Checks, work: Path) -> None:
    sys.path.insert(0, str(ROOT / "experiments"))
    import benchmark

    cuda = checks.device == "cuda"
    batch, size, block, steps = (256, 224, 10, 8) if cuda else (8, 64, 1, 6)
    data = benchmark.batches(batch, size, block * (2 + steps))
    plain, framework, ratio, spread = benchmark.interleaved_rates(
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


STEPS: dict[str, Callable[[Checks, Path], None]] = {
    "probe": probe,
    "precision": precision,
    "decode_render": decode_render,
    "train_eval_resume": train_eval_resume,
    "device_data": device_data,
    "compile": compile_step,
    "ddp_sweep": ddp_sweep,
    "throughput": throughput,
}


def run_step(step: str, device: str, work: Path, result: Path) -> None:
    """Run `step` on `device` in `work`; write its checks to `result`."""
    work.mkdir(parents=True, exist_ok=True)
    checks = Checks(device)
    if device == "cuda" and not torch.cuda.is_available():
        checks.check("CUDA available", False, "torch.cuda.is_available() is False (use --cpu)")
    else:
        started = time.monotonic()
        checks.attempt(step, lambda: STEPS[step](checks, work))
        checks.info["seconds"] = round(time.monotonic() - started, 1)
    checks.info["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result.write_text(json.dumps({"checks": checks.items, "info": checks.info}, indent=2))
