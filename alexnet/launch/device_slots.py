"""One GPU per concurrent job: parallel sweep jobs (hydra/launcher=joblib) take distinct devices.

Each job locks a free slot file in the sweep dir (an OS file lock: released when the job ends or
its process dies) and trains on the device with that index.
"""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from typing import IO

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from alexnet.errors import InvalidValue

log = logging.getLogger(__name__)


# The slot this process held last: a joblib worker runs job after job, and its CUDA context
# (and cached memory) stays on the GPU it first used; it takes that slot again when it is free.
_last: dict[str, int | None] = {"slot": None}


class DeviceSlot:
    """A held slot: `index` is the device this job uses until `release()`."""

    def __init__(self, index: int, handle: IO[str]) -> None:
        self.index, self._handle = index, handle

    def release(self) -> None:
        if torch.cuda.is_initialized():
            torch.cuda.empty_cache()  # the job's cached blocks, for the next job on this GPU
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def acquire(
    lock_dir: Path, slots: int, poll_s: float = 0.2, prefer: int | None = None
) -> DeviceSlot:
    """Wait for a free slot among `slots` and hold it, trying `prefer` first."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    order = list(range(slots))
    if prefer is not None and prefer in order:
        order.remove(prefer)
        order.insert(0, prefer)
    while True:
        for index in order:
            handle = open(lock_dir / f"slot_{index}.lock", "a")  # noqa: SIM115 - held until release
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return DeviceSlot(index, handle)
        time.sleep(poll_s)


def slot_count(setting: int | str | None) -> int:
    """Slots for this job: `auto` gives one per visible GPU under the joblib launcher."""
    if setting in (None, "auto"):
        launcher = str(HydraConfig.get().launcher.get("_target_", ""))
        return torch.cuda.device_count() if "joblib" in launcher.lower() else 0
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < 0:
        raise InvalidValue("device_slots", setting, "use auto, 0 (off) or a number of devices")
    return setting


def take_device(cfg: DictConfig) -> DeviceSlot | None:
    """In a sweep with device slots, hold a free slot and point the job's trainer at its GPU
    (not a trainer on the CPU; a trainer asking for several devices is refused, not narrowed)."""
    slots = slot_count(cfg.get("device_slots"))
    if slots < 2:
        return None
    devices = cfg.trainer.get("devices", 1)
    if devices not in (1, "1", "auto") and not (isinstance(devices, list) and len(devices) == 1):
        raise InvalidValue(
            "device_slots",
            cfg.get("device_slots"),
            f"each parallel job gets one GPU, and this one asks for "
            f"trainer.devices={devices}: set device_slots=0 (or trainer.devices=1)",
        )
    slot = acquire(Path(HydraConfig.get().sweep.dir) / ".device_slots", slots, prefer=_last["slot"])
    _last["slot"] = slot.index
    on_gpu = torch.cuda.is_available() and cfg.trainer.get("accelerator") in ("auto", "gpu", "cuda")
    with open_dict(cfg):
        cfg.device_slot = slot.index
        cfg.device_slot_gpu = torch.cuda.get_device_name(slot.index) if on_gpu else None
        if on_gpu:
            cfg.trainer.accelerator = "gpu"
            cfg.trainer.devices = [slot.index]
    log.info(
        "Device slot %d of %d%s",
        slot.index,
        slots,
        f": GPU {slot.index} ({cfg.device_slot_gpu})" if on_gpu else "",
    )
    return slot
