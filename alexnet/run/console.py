"""What a run shows on the console: Lightning's messages through the root logger (once, into
the run's log file too), and third-party noise a user can do nothing about silenced narrowly,
each at its source, with the upstream issue named."""

from __future__ import annotations

import logging
import warnings

_TIP = "💡 Tip:"
_done = {"noise": False}


class _WithoutTips(logging.Filter):
    """Lightning advertises its cloud services at every fit, with no switch to turn it off
    (Lightning-AI/pytorch-lightning#21294)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_TIP)


def route_lightning_logs() -> None:
    """Send Lightning's messages through the root logger, so that each is shown once and the
    run's log file has them (Lightning 2.6 prints through a handler of its own on "lightning",
    which printed every line twice under Hydra's)."""
    if not logging.getLogger().handlers:
        return
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = True


def silence_known_noise() -> None:
    """Filters for warnings and messages that no setting of ours or the user's can avoid."""
    if _done["noise"]:
        return
    _done["noise"] = True
    # torch deprecated LeafSpec; Lightning 2.6's pytree helper still checks for it at every
    # step's output (Lightning-AI/pytorch-lightning#21326).
    warnings.filterwarnings(
        "ignore",
        r"`isinstance\(treespec, LeafSpec\)` is deprecated",
        FutureWarning,
        r"lightning\.pytorch\.utilities\._pytree",
    )
    # torchdata's StatefulDataLoader still calls torch.set_vital, which torch deprecated
    # (meta-pytorch/data#1536).
    warnings.filterwarnings(
        "ignore",
        message="'set_vital' is deprecated",
        category=UserWarning,
        module=r"torchdata\.stateful_dataloader",
    )
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).addFilter(_WithoutTips())


def quiet_console() -> None:
    """Both of the above: called as a run or an evaluation starts."""
    route_lightning_logs()
    silence_known_noise()
