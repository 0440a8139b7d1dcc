"""A data root holding entries nobody can read: broken symbolic links, symbolic link loops and
folders without permission are skipped with a warning naming them; with nothing readable left,
one line. (Once a traceback while the classes were listed, or a walk that never ended.)"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from alexnet.data import AlexNetDataModule, DataError
from alexnet.data.folder_scan import image_files
from alexnet.data.imagefolder import class_names
from tests.conftest import write_image


def images(folder: Path, count: int, seed: int = 0) -> None:
    for i in range(count):
        write_image(folder / f"{i}.jpg", "RGB", (40, 40), seed + i)


def test_broken_links_and_link_loops_are_skipped_with_a_warning(tmp_path, caplog):
    root = tmp_path / "root"
    images(root / "a", 3)
    images(root / "b", 3, seed=10)
    (root / "gone").symlink_to(tmp_path / "nowhere")  # a broken link where a class would be
    (root / "loop").symlink_to(root / "loop")  # a link to itself
    (root / "a" / "back").symlink_to(root / "a")  # a loop inside a class: entered once
    (root / "b" / "lost.jpg").symlink_to(tmp_path / "nothing.jpg")  # a broken image link
    with caplog.at_level(logging.WARNING):
        assert class_names(root) == ["a", "b"]
        assert [p.name for p in image_files(root / "a")] == ["0.jpg", "1.jpg", "2.jpg"]
    said = caplog.text
    assert f"{root / 'gone'}: a broken symbolic link" in said
    assert f"{root / 'loop'}: a symbolic link loop" in said
    assert f"{root / 'a' / 'back'}: a symbolic link loop" in said
    assert f"{root / 'b' / 'lost.jpg'}: a broken symbolic link" in said
    datamodule = AlexNetDataModule(
        source="imagefolder", root=str(root), image_size=32, num_workers=0, val_fraction=0.34
    )
    datamodule.setup("fit")
    assert datamodule.num_classes == 2
    assert len(datamodule.datasets["train"]) + len(datamodule.datasets["val"]) == 6


def test_a_root_with_nothing_readable_is_one_line(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "gone").symlink_to(tmp_path / "nowhere")
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(DataError) as caught:
        class_names(root)
    message = str(caught.value)
    assert message == (
        f"data root {root} has no readable class folders (expected {root}/<class>"
        "/*.jpg; skipped: gone (a broken symbolic link), loop (a symbolic link "
        "loop))"
    )


def as_unprivileged(work: Callable[[], object], timeout_s: float = 60) -> dict:
    """`work()`'s result (or its error) in a forked child without root's privileges: root reads
    any folder, whatever its mode. The child has every module already imported."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)  # nobody
            outcome = {"result": work()}
        except Exception as err:  # noqa: BLE001 - reported to the parent
            outcome = {"error": f"{type(err).__name__}: {err}"}
        os.write(writer, json.dumps(outcome).encode())
        os._exit(0)
    os.close(writer)
    deadline = time.monotonic() + timeout_s
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise TimeoutError(f"the unprivileged child did not finish in {timeout_s} s")
        time.sleep(0.05)
    with os.fdopen(reader) as pipe:
        return json.loads(pipe.read() or "{}")


@pytest.fixture
def shared_dir():
    """A folder the unprivileged child can reach (pytest's tmp_path sits under a folder only
    its owner may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="alexnet-unreadable-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def test_folders_without_permission_are_skipped_or_one_line(shared_dir):
    root = shared_dir / "root"
    images(root / "a", 2)
    images(root / "locked", 2)
    for path in (root, root / "a", *(root / "a").iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (root / "locked").chmod(0o000)
    listed = as_unprivileged(lambda: class_names(root))
    root.chmod(0o000)
    refused = as_unprivileged(lambda: class_names(root))
    assert listed == {"result": ["a"]}
    assert refused == {"error": f"DataError: data root {root} cannot be read (Permission denied)"}


def test_a_root_listed_but_not_entered_is_one_line(shared_dir):
    """A root with read but no search permission: its names are listed, nothing under it can be
    looked at (Path.is_dir raised PermissionError: a traceback)."""
    root = shared_dir / "root"
    images(root / "a", 2)
    for path in (root / "a", *(root / "a").iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    root.chmod(0o444)

    def num_classes() -> int:
        return AlexNetDataModule(source="imagefolder", root=str(root), num_workers=0).num_classes

    for work in (lambda: class_names(root), num_classes):
        assert as_unprivileged(work) == {
            "error": f"DataError: data root {root} has no readable class folders (expected "
            f"{root}/<class>/*.jpg; skipped: a (permission denied))"
        }
