"""Predictions written as rows, whole or not at all: CSV (path, then class_1, prob_1, ... best
first) or JSON Lines (path, and top_k: [{class, index, prob}, ...]), chosen by the suffix."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path

from alexnet.atomic_files import written_whole
from alexnet.errors import InvalidValue
from alexnet.inference.predictions import Prediction

SUFFIXES = (".csv", ".jsonl")


def check_output(
    path: Path, suffixes: tuple[str, ...] | None = SUFFIXES, key: str = "output"
) -> Path:
    """`path` if a file (of one of `suffixes`, unless None) can be written there; else
    InvalidValue naming `key` (checked before any work, so that a mistake costs nothing)."""
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise InvalidValue(key, str(path), f"name a file ending in {' or '.join(suffixes)}")
    if path.is_dir():
        raise InvalidValue(key, str(path), "it is a folder; name a file")
    folder = path.parent
    if not folder.is_dir():
        raise InvalidValue(key, str(path), f"the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidValue(key, str(path), f"the folder {folder} cannot be written")
    return path


def write_rows(predictions: Iterable[Prediction], path: Path) -> int:
    """Write `predictions` to `path` (its suffix picks the format); the file appears whole when
    they are all written, and an error leaves no file. Returns the rows written."""
    rows = 0
    with written_whole(path) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="")
        writer = csv.writer(text) if path.suffix.lower() == ".csv" else None
        for prediction in predictions:
            if writer is not None:
                if rows == 0:
                    writer.writerow(_header(len(prediction.names)))
                ranked = zip(prediction.names, prediction.probs)
                writer.writerow([prediction.path, *[v for n, p in ranked for v in (n, f"{p:.6f}")]])
            else:
                text.write(json.dumps(_record(prediction)) + "\n")
            rows += 1
        text.flush()
        text.detach()  # the stream stays open for written_whole to sync and rename
    return rows


def _header(top_k: int) -> list[str]:
    return [
        "path",
        *[f"{kind}_{rank}" for rank in range(1, top_k + 1) for kind in ("class", "prob")],
    ]


def _record(prediction: Prediction) -> dict:
    ranked = zip(prediction.names, prediction.indices, prediction.probs)
    return {
        "path": os.fsdecode(prediction.path),
        "top_k": [{"class": n, "index": i, "prob": round(p, 6)} for n, i, p in ranked],
    }
