"""Step 1, the probe: the GPU's name and memory, bf16 support, the NCCL version (on the CPU: a
matmul runs and gloo is there)."""

from __future__ import annotations

from pathlib import Path

import torch

from .checks import Checks


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
