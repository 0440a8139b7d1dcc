"""A run that receives SIGTERM ends, even where it reaches no batch boundary.

Lightning's SIGTERM handler only raises a flag that the fit loop reads between batches; a run
blocked on its data loader (a stuck worker, a stalled mount) or in a collective never reads it,
and its loader workers ignore SIGTERM (alexnet.launch.requeue). After the signal this gives the run
`grace_s` seconds; past them a watchdog thread writes what it can, kills the workers and ends the
process with one line.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import lightning as L

from alexnet.launch.requeue import requeued

log = logging.getLogger(__name__)
EXIT_CODE = 128 + signal.SIGTERM


class SigtermBound(L.Callback):
    """From the start of training, SIGTERM (after Lightning's own handler) arms a watchdog: if
    the process is still alive `grace_s` seconds later, `on_expiry` runs (e.g. the run record is
    written), the loader workers are killed and the process exits with 143 and one line."""

    def __init__(self, grace_s: float, on_expiry: Callable[[], None] | None = None) -> None:
        self.grace_s = grace_s
        self.on_expiry = on_expiry
        self._timer: threading.Timer | None = None
        self._previous: Any = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers live in the main thread (a joblib worker thread has none)
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self._handle)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore()

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._restore()  # also when the fit ended on an exception

    def _restore(self) -> None:
        if self._previous is not None and self._timer is None:
            signal.signal(signal.SIGTERM, self._previous)  # the fit is over, nothing blocks
            self._previous = None

    def _handle(self, signum: int, frame: Any) -> None:
        if callable(self._previous):
            self._previous(signum, frame)  # Lightning's: the flag read at the batch boundary
        if self._timer is None and not requeued():
            self._timer = threading.Timer(self.grace_s, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        log.error(
            "SIGTERM: no batch boundary within %g s (the data loader or another rank is "
            "blocked); the run ends here, its last checkpoint kept",
            self.grace_s,
        )
        try:
            if self.on_expiry is not None:
                self.on_expiry()
        except Exception:  # noqa: BLE001 - the process must end whatever the record does
            log.exception("Could not write the run's record")
        finally:
            for child in multiprocessing.active_children():
                if child.daemon:  # the DataLoader's workers, which ignore SIGTERM
                    child.kill()
            logging.shutdown()
            os._exit(EXIT_CODE)
