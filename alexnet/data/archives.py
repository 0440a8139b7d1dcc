"""Archive extraction that keeps every member inside its destination.

torchvision extracts a dataset's tar archive with ``tarfile.extractall`` and no filter: a member
with an absolute path, a ``../`` path or a link out of the folder would be written outside it.
"""

from __future__ import annotations

import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()  # the filter is a class attribute: one extraction sets it at a time


@contextmanager
def safe_extraction() -> Iterator[None]:
    """Within it, every tar extraction that names no filter of its own uses tarfile's `data`
    filter (a member outside the destination, an absolute or escaping link, a device file:
    refused with a tarfile.FilterError; absolute paths made relative); restored afterwards."""
    with _LOCK:
        before = vars(tarfile.TarFile)["extraction_filter"]  # as stored: None or a staticmethod
        tarfile.TarFile.extraction_filter = staticmethod(tarfile.data_filter)
        try:
            yield
        finally:
            tarfile.TarFile.extraction_filter = before
