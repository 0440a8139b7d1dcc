"""A named dataset's archive is extracted with tarfile's `data` filter: a member with an absolute
path, a `../` path or a link out of the destination never lands outside it (no network: the
"download" copies a tar built here)."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
from torchvision.datasets import utils as tv_utils

from alexnet.data.archives import safe_extraction
from alexnet.data.named import ensure_downloaded
from alexnet.errors import DataError


def evil_tar(path: Path, members: list[tuple[str, str | None]]) -> Path:
    """A tar holding a harmless file, then `members`: (name, None) a file, (name, target) a
    symlink to target."""
    with tarfile.open(path, "w:gz") as tar:
        for name, target in [("cifar-10-batches-py/readme.txt", None), *members]:
            info = tarfile.TarInfo(name)
            if target is None:
                data = b"written by the archive\n"
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
    return path


def escapes(tmp_path: Path) -> list[tuple[list[tuple[str, str | None]], Path]]:
    """(the archive's members, where one of them would land outside the destination)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return [
        ([("../../escape.txt", None)], tmp_path / "escape.txt"),
        ([(str(outside / "absolute.txt"), None)], outside / "absolute.txt"),
        ([("link", str(outside)), ("link/through.txt", None)], outside / "through.txt"),
    ]


@pytest.mark.parametrize("case", [0, 1, 2], ids=["dotdot", "absolute", "absolute_link"])
def test_extraction_keeps_every_member_inside_the_destination(tmp_path, case):
    members, landing = escapes(tmp_path)[case]
    archive = evil_tar(tmp_path / "evil.tar.gz", members)
    destination = tmp_path / "a" / "b"
    destination.mkdir(parents=True)
    try:
        with safe_extraction():
            tv_utils.extract_archive(str(archive), str(destination))
    except tarfile.FilterError:
        pass  # refused: what the data filter does with ../ and absolute links
    assert not landing.exists()
    assert tarfile.TarFile.extraction_filter is None  # restored afterwards


@pytest.mark.parametrize("case", [0, 1, 2], ids=["dotdot", "absolute", "absolute_link"])
def test_a_named_dataset_download_never_writes_outside_its_root(tmp_path, monkeypatch, case):
    members, landing = escapes(tmp_path)[case]
    archive = evil_tar(tmp_path / "evil.tar.gz", members)

    def fake_download(url, root, filename=None, md5=None, **kwargs):
        shutil.copy(archive, Path(root) / (filename or Path(url).name))

    monkeypatch.setattr(tv_utils, "download_url", fake_download)
    root = tmp_path / "x" / "cifar10"
    with pytest.raises(DataError, match="download failed"):
        ensure_downloaded("cifar10", root)
    assert not landing.exists()
    assert not (tmp_path / "x" / "escape.txt").exists()
    assert tarfile.TarFile.extraction_filter is None
