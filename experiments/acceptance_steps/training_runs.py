"""Steps 4 and 7, whole runs of the commands: train / eval / resume with callbacks=interpret
(metrics above chance, pictures in the event file, eval.py reproducing the test metrics, the
step count continuing), and a DDP sweep of two jobs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .checks import SIZES, Checks, last_line, run_cli


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
