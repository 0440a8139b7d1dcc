"""Files written whole: a temporary file of this process beside the target, flushed to disk and
renamed into place, so that a reader (or a crash) never sees half a file and two processes never
share a temporary name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_UMASK = os.umask(0)
os.umask(_UMASK)  # read once at import: the mode a plain open() would give the file


@contextmanager
def written_whole(path: Path) -> Iterator[BinaryIO]:
    """`with written_whole(path) as stream: ...`: `path` appears, whole, when the block ends
    without an error; with an error the temporary file is removed (its space freed)."""
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        os.fchmod(handle, 0o666 & ~_UMASK)
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
