"""DataLoader settings: pinned memory follows the device unless set; worker options only with
workers. The decision is a pure function, so its CUDA branch is tested without a GPU."""

from types import SimpleNamespace

import lightning as L
import pytest
import torch

from alexnet import AlexNetDataModule
from alexnet.data.loaders import LoaderSettings, loader_settings


@pytest.mark.parametrize(
    ("device_type", "pin_memory", "pins"),
    [
        ("cuda", "auto", True),  # batches bound for a GPU are page-locked
        ("cpu", "auto", False),
        ("mps", "auto", False),  # Apple GPUs share memory with the CPU: nothing to pin
        (None, "auto", False),  # no trainer yet
        ("cuda", False, False),  # as configured, whatever the device
        ("cpu", True, True),
    ],
)
def test_pin_memory_follows_the_device_unless_set(device_type, pin_memory, pins):
    assert loader_settings(device_type, 0, pin_memory).pin_memory is pins


def test_worker_options_only_with_workers():
    assert loader_settings("cuda", 4, persistent_workers=True, prefetch_factor=3) == LoaderSettings(
        num_workers=4, pin_memory=True, persistent_workers=True, prefetch_factor=3
    )
    assert loader_settings("cuda", 4, persistent_workers=False).persistent_workers is False
    # The main process loads: DataLoader rejects persistent workers and a prefetch factor there.
    assert loader_settings("cpu", 0, persistent_workers=True, prefetch_factor=3) == LoaderSettings(
        num_workers=0, pin_memory=False, persistent_workers=False, prefetch_factor=None
    )


def loader(pin_memory, trainer=None, num_workers=0):
    dm = AlexNetDataModule(
        num_classes=2,
        image_size=32,
        train_per_class=2,
        val_per_class=1,
        test_per_class=1,
        batch_size=2,
        num_workers=num_workers,
        pin_memory=pin_memory,
    )
    dm.trainer = trainer
    dm.setup("fit")
    return dm.train_dataloader()


def on_device(device_type: str) -> SimpleNamespace:
    """As much of a Trainer as the loaders read, on a device this machine may not have."""
    return SimpleNamespace(
        strategy=SimpleNamespace(root_device=torch.device(device_type)), world_size=1, global_rank=0
    )


def test_the_datamodule_loaders_use_the_decision():
    assert loader("auto").pin_memory is False  # no trainer yet
    assert loader("auto", L.Trainer(accelerator="cpu", logger=False)).pin_memory is False
    assert loader("auto", on_device("cuda")).pin_memory is True  # no GPU needed to build it
    assert loader(False, on_device("cuda")).pin_memory is False
    assert loader(True).pin_memory is True
    with_workers = loader("auto", on_device("cpu"), num_workers=1)
    assert with_workers.persistent_workers is True and with_workers.prefetch_factor == 2


def test_bad_pin_memory_names_the_choices():
    with pytest.raises(
        ValueError, match="data.pin_memory='yes' is not valid; choose one of: auto, true, false"
    ):
        loader("yes")
