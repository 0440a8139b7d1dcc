"""The GPU acceptance script: run once on a machine with one GPU, trust what it says.

    python -m experiments.gpu_acceptance [--out experiments/results/gpu] [--only STEP ...]
    python -m experiments.gpu_acceptance --cpu   (the same steps at tiny sizes on the CPU, as CI
                                                  runs it; what needs CUDA is skipped, saying so)

Each step (experiments/acceptance_steps/) runs in its own process under its own timeout,
forked from this one after torch, Lightning and the package are imported once (no CUDA call
before the fork); a failed or timed-out step (killed with everything it started) does not stop
the others. Every step asserts something (not just "it
ran"): its checks, each passed or failed with the figures behind it, go into `summary.json`
and `summary.md` under --out with the machine, versions and commit. The exit status is 1 if
any step failed, 0 otherwise. Expected to take at most 8 minutes on one modern GPU.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from experiments import acceptance_steps
from experiments.lab.provenance import collect, git_state

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# (step, what it checks, timeout on a GPU in s, timeout on the CPU at tiny sizes in s)
STEPS = (
    ("probe", "GPU name, memory, bf16 support, NCCL version", 60, 60),
    (
        "precision",
        "no host syncs in non-logging steps; NaN gradients stop the run with finite "
        "weights; 16-mixed with the fused optimizer, no false divergence; bf16 with clipping",
        150,
        180,
    ),
    (
        "decode_render",
        "nvJPEG decode equals the CPU's within 3/255, memory flat over 200 "
        "decodes; batch rendering on the device equals the CPU's images",
        90,
        90,
    ),
    (
        "train_eval_resume",
        "2 epochs with callbacks=interpret above chance, pictures in the event "
        "file; eval.py reproduces the test metrics; resuming continues the step count",
        180,
        240,
    ),
    (
        "device_data",
        "render_on=device and decode=device runs with the default callbacks, img/s "
        "beside the CPU loader's",
        120,
        180,
    ),
    (
        "compile",
        "compile=true: fewer than 8 recompiles with callbacks=interpret, not slower than eager",
        180,
        180,
    ),
    (
        "ddp_sweep",
        "a sweep of two DDP jobs, each setting up and tearing down its process group",
        150,
        180,
    ),
    ("throughput", "framework / plain PyTorch >= 0.97 for bf16 channels_last; images/s", 120, 120),
)


def run_step(name: str, device: str, out: Path, timeout: float) -> dict:
    """One step in its own forked process group: its result file, or why there is none."""
    result = out / "steps" / f"{name}.json"
    result.unlink(missing_ok=True)
    log = out / "steps" / f"{name}.log"
    started = time.monotonic()
    process = multiprocessing.get_context("fork").Process(
        target=_step_process, args=(name, device, out / "work" / name, result, log)
    )
    process.start()
    process.join(timeout)
    code = process.exitcode
    if process.is_alive():
        os.killpg(process.pid, signal.SIGKILL)  # the step and all it started
        process.join(30)
        code = None
    seconds = round(time.monotonic() - started, 1)
    if code is None:
        return {
            "status": "failed",
            "seconds": seconds,
            "error": f"timed out after {timeout:g} s (its log: {log.relative_to(out)})",
        }
    if not result.exists():
        lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        return {
            "status": "failed",
            "seconds": seconds,
            "error": f"exited {code} without a result: {(lines or ['(no output)'])[-1]}",
        }
    record = json.loads(result.read_text())
    failed = [check for check in record["checks"] if check["status"] == "failed"]
    status = "failed" if failed or code else "passed"
    return {"status": status, "seconds": seconds, **record}


def _step_process(name: str, device: str, work: Path, result: Path, log: Path) -> None:
    os.setsid()  # a process group of its own: a timeout kills what it started too
    with log.open("w") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    acceptance_steps.run_step(name, device, work, result)
    sys.stdout.flush()
    sys.stderr.flush()


def markdown(summary: dict) -> str:
    lines = [
        f"# GPU acceptance ({summary['mode']}): {summary['verdict']}",
        "",
        f"`{summary['command']}` at commit {summary['provenance'].get('commit')}, "
        f"{summary['seconds']:.0f} s in all; machine and versions in summary.json.",
        "",
        "| step | check | status | figures |",
        "| --- | --- | --- | --- |",
    ]
    for name, step in summary["steps"].items():
        if "error" in step:
            lines.append(f"| {name} | (the step) | failed | {step['error']} |")
        for check in step.get("checks", []):
            lines.append(
                f"| {name} | {check['name']} | {check['status']} | {check.get('detail', '')} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="tiny sizes on the CPU (CI)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: experiments/results/gpu, or logs/acceptance_cpu with --cpu",
    )
    parser.add_argument("--only", nargs="+", choices=[step[0] for step in STEPS])
    args = parser.parse_args(argv)
    out = args.out or ROOT / ("logs/acceptance_cpu" if args.cpu else "experiments/results/gpu")
    (out / "steps").mkdir(parents=True, exist_ok=True)
    device, started = "cpu" if args.cpu else "cuda", time.monotonic()
    git = git_state(exclude=out)
    steps = {}
    for name, _, gpu_timeout, cpu_timeout in STEPS:
        if args.only and name not in args.only:
            continue
        steps[name] = run_step(name, device, out, cpu_timeout if args.cpu else gpu_timeout)
        sys.stderr.write(f"{name}: {steps[name]['status']} ({steps[name]['seconds']} s)\n")
    failed = [name for name, step in steps.items() if step["status"] == "failed"]
    summary = {
        "mode": "cpu, tiny sizes" if args.cpu else "gpu",
        "verdict": f"{len(failed)} step(s) failed: {', '.join(failed)}"
        if failed
        else "every step passed",
        "seconds": round(time.monotonic() - started, 1),
        "steps": steps,
    }
    summary["provenance"] = collect([], summary["seconds"], git=git, out=out)
    summary["command"] = summary["provenance"]["command"]
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary))
    sys.stderr.write(f"{summary['verdict']}: {out / 'summary.md'}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
