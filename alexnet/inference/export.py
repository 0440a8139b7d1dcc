"""A trained model handed to another runtime: ONNX (a dynamic batch axis, one file),
TorchScript or safetensors (the weights, rebuilt from the sidecar's preset and knobs). The file is
written under a temporary name, run on a fixed batch and compared with the PyTorch logits, and
only then renamed into place, beside a sidecar JSON with what a consumer needs."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alexnet.atomic_files import written_whole
from alexnet.errors import check_choice, check_int, check_number

FORMATS = {"onnx": ".onnx", "torchscript": ".pt", "safetensors": ".safetensors"}
INPUT, OUTPUT = "images", "logits"


class ExportMismatch(RuntimeError):
    """The exporter failed, or the exported model's logits differ from PyTorch's beyond the
    tolerance."""


@dataclass
class Parity:
    """The exported model against PyTorch on one fixed batch."""

    batch: int
    largest_difference: float
    tolerance: float
    top1_agree: int

    @property
    def passed(self) -> bool:
        return self.largest_difference <= self.tolerance and self.top1_agree == self.batch

    def line(self, fmt: str) -> str:
        return (
            f"{fmt}: largest logit difference {self.largest_difference:.2e} (tolerance "
            f"{self.tolerance:.0e}), top-1 agreement {self.top1_agree}/{self.batch}"
        )


def fixed_batch(batch: int, image_size: int) -> torch.Tensor:
    """The batch every export is checked on: normalized-image-like noise, seed 0."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn(batch, 3, image_size, image_size, generator=generator)


def export_model(
    model: torch.nn.Module,
    fmt: str,
    path: Path,
    image_size: int,
    sidecar: dict[str, Any],
    batch: int = 4,
    tolerance: float = 1e-3,
) -> Parity:
    """Export `model` (eval mode, CPU) as `fmt` to `path` with its sidecar `path`.json; raises
    ExportMismatch, leaving neither file, when the exported model's logits differ."""
    check_choice("format", fmt, FORMATS)
    check_int("check.batch", batch, minimum=2)  # two at least: the batch axis must be dynamic
    check_number("check.tolerance", tolerance, 0, None, low_open=True)
    model = model.cpu().eval()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        try:
            _WRITERS[fmt](model, partial, image_size)
        except Exception as err:  # noqa: BLE001 - the exporter's own failure, as one line
            line = (str(err).strip().splitlines() or [""])[0][:300]
            raise ExportMismatch(
                f"format={fmt}: the exporter failed: {type(err).__name__}: {line}"
            ) from err
        images = fixed_batch(batch, image_size)
        with torch.inference_mode():
            expected = model(images).numpy()
        got = run_exported(fmt, partial, images, sidecar["model"])
        parity = compare(expected, got, tolerance)
        if not parity.passed:
            raise ExportMismatch(parity.line(fmt))
        card = {**sidecar, "format": fmt, "file": path.name, "parity": parity.__dict__}
        os.replace(partial, path)
        with written_whole(path.with_name(path.name + ".json")) as stream:
            stream.write((json.dumps(card, indent=2) + "\n").encode())
        return parity
    finally:
        partial.unlink(missing_ok=True)


def run_exported(fmt: str, path: Path, images: torch.Tensor, model: dict) -> np.ndarray:
    """The logits of exported file `path` on `images`: ONNX through onnxruntime, TorchScript
    through torch.jit.load, safetensors loaded into the preset and knobs of `model`."""
    return _RUNNERS[fmt](path, images, model)


def compare(expected: np.ndarray, got: np.ndarray, tolerance: float) -> Parity:
    """PyTorch's logits `expected` against an exported model's `got`."""
    largest = float(np.abs(expected - got).max())
    agree = int((expected.argmax(-1) == got.argmax(-1)).sum())
    return Parity(len(expected), largest, tolerance, agree)


def _write_onnx(model: torch.nn.Module, path: Path, image_size: int) -> None:
    example = fixed_batch(2, image_size)
    batch = torch.export.Dim("batch", min=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_shapes=({0: batch},),
            external_data=False,  # one file (AlexNet's 61 M weights fit protobuf's 2 GiB)
            dynamo=True,
            verbose=False,
        )


def _run_onnx(path: Path, images: torch.Tensor, _spec: dict) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT], {INPUT: images.numpy()})[0]


def _write_torchscript(model: torch.nn.Module, path: Path, _image_size: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript's deprecation notice
        torch.jit.script(model).save(str(path))


def _run_torchscript(path: Path, images: torch.Tensor, _spec: dict) -> np.ndarray:
    loaded = torch.jit.load(str(path), map_location="cpu").eval()
    with torch.inference_mode():
        return loaded(images).numpy()


def _write_safetensors(model: torch.nn.Module, path: Path, _image_size: int) -> None:
    from safetensors.torch import save_file

    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt"})


def _run_safetensors(path: Path, images: torch.Tensor, spec: dict) -> np.ndarray:
    from safetensors.torch import load_file

    from alexnet.models import create_model
    from alexnet.models.presets import knob_names

    knobs = {k: v for k, v in spec.items() if k in knob_names(spec["preset"])}
    model = create_model(spec["preset"], num_classes=spec["num_classes"], **knobs).eval()
    model.load_state_dict(load_file(str(path)))
    with torch.inference_mode():
        return model(images).numpy()


_WRITERS = {
    "onnx": _write_onnx,
    "torchscript": _write_torchscript,
    "safetensors": _write_safetensors,
}
_RUNNERS = {"onnx": _run_onnx, "torchscript": _run_torchscript, "safetensors": _run_safetensors}
