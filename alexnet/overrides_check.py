"""Check a command line's overrides before Hydra runs them, so that a mistake is one line.

Hydra reports a bad override (an unknown option, a wrong type, a key that does not exist) as a
multi-line message with a stack-trace hint. Here the same overrides are composed first, each
value of a sweep (``activation=relu,tanh``) in turn, and the first failure becomes an
InvalidValue naming the key, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    OmegaConfBaseException,
    ValidationError,
)

from alexnet.config import CONF_DIR, compose_config
from alexnet.errors import InvalidValue

HYDRA_FLAGS = ("-m", "--multirun")
MAX_VALUES = 20  # values composed per sweep; a longer sweep's later values are left to its jobs
TYPE_NAMES = {
    "Integer": "an integer",
    "Float": "a number",
    "Boolean": "true or false",
    "String": "a string",
}


def check_command_line(argv: Sequence[str], config_name: str) -> None:
    """Raise InvalidValue for the first override of `argv` that does not compose (with the
    config groups of `--config-dir DIR` too)."""
    config_dir, argv = _config_dir(argv)
    if any(arg.startswith("-") and arg not in HYDRA_FLAGS for arg in argv):
        return  # --help, --cfg, --config-path ...: Hydra's own business
    overrides = [
        arg
        for arg in argv
        if arg not in HYDRA_FLAGS and not arg.lstrip("+~").startswith(("hydra.", "hydra/"))
    ]
    multirun = any(arg in HYDRA_FLAGS for arg in argv)
    search = [f"hydra.searchpath=[file://{config_dir}]"] if config_dir else []
    for variant in _variants(overrides, multirun):
        try:  # nothing is resolved or written
            compose_config([*variant, *search], config_name, output_dir=".")
        except (MissingConfigException, ConfigCompositionException) as err:
            raise _one_line(err, variant, config_name) from None
        except OmegaConfBaseException as err:
            key = getattr(err, "full_key", None) or "overrides"
            raise InvalidValue(key, _given(key, variant), str(err).splitlines()[0]) from None


def _config_dir(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """Hydra's `--config-dir DIR` (or `-cd DIR`, `--config-dir=DIR`) as an absolute path, and
    the other arguments."""
    rest, found, args = [], None, list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--config-dir", "-cd") and args:
            found = args.pop(0)
        elif arg.startswith("--config-dir="):
            found = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return (str(Path(found).expanduser().resolve()) if found else None), rest


def _variants(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override lists to compose: every sweep at its first value, then each other value of
    each sweep in turn (at most MAX_VALUES). Sweeps over intervals (the Optuna sweeper's) are
    left out; a sweep without -m is refused."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except OverrideParseException as err:
        line = str(err).splitlines()[0]
        raise InvalidValue(
            "override", _bad_override(overrides), f"it is not a valid Hydra override ({line})"
        ) from None
    fixed: list[str] = []
    sweeps: list[tuple[str, list[str]]] = []
    for override in parsed:
        if not override.is_sweep_override():
            fixed.append(override.input_line or "")
            continue
        if not multirun:
            given = (override.input_line or "").partition("=")[2]
            raise InvalidValue(
                override.get_key_element().lstrip("+~"),
                given,
                "a sweep over several values needs -m (--multirun)",
            )
        try:
            values = [str(v) for v in override.sweep_string_iterator()]
        except Exception:  # noqa: BLE001 - an interval or tagged sweep: the sweeper's to sample
            continue
        if values:
            sweeps.append((override.get_key_element(), values[:MAX_VALUES]))
    first = [f"{key}={values[0]}" for key, values in sweeps]
    variants = [fixed + first]
    for index, (key, values) in enumerate(sweeps):
        for value in values[1:]:
            variants.append(fixed + first[:index] + [f"{key}={value}"] + first[index + 1 :])
    return variants


def _bad_override(overrides: list[str]) -> str:
    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except OverrideParseException:
            return override
    return " ".join(overrides)


def _one_line(err: Exception, overrides: list[str], config_name: str) -> InvalidValue:
    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, option = err.missing_cfg_file.rpartition("/")
        # A list of options (logger=[tensorboard,mlfow]) comes without Hydra's list of choices.
        known = err.options or [p.stem for p in (CONF_DIR / group).glob("*.yaml")]
        options = sorted(o for o in known if not o.startswith("_"))
        return InvalidValue(group, option, f"choose one of: {', '.join(options)}")
    cause = err.__cause__
    key = getattr(cause, "full_key", None) or ""
    value = _given(key, overrides)
    if isinstance(cause, ValidationError):
        text = str(cause)
        wanted = re.search(r"could not be converted to (\w+)", text)
        if wanted:
            allowed = f"it must be {TYPE_NAMES.get(wanted.group(1), wanted.group(1))}"
        elif "not a valid bool" in text:
            allowed = "it must be true or false"
        else:
            allowed = f"wrong type ({text.splitlines()[0]})"
        if re.search(r"\[\d+\]$", key):
            allowed = allowed.replace("it must be", "each of its items must be")
        return InvalidValue(re.sub(r"\[\d+\]$", "", key), value, allowed)
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)):
        parent, _, name = key.rpartition(".")
        known = _keys_of(parent, overrides, key, config_name)
        where = (
            f"the keys of {parent}: {', '.join(known)}"
            if parent
            else f"the top-level keys: {', '.join(known)}"
        )
        return InvalidValue(
            key, value, f"there is no such key; {where} (a new key needs a leading +: +{key}=...)"
        )
    return InvalidValue("overrides", " ".join(overrides), str(err).splitlines()[0])


def _given(key: str, overrides: list[str]) -> object:
    """The value `overrides` gives `key` (as typed), or None."""
    root = re.sub(r"\[\d+\]$", "", key)
    for override in overrides:
        name, _, value = override.lstrip("+~").partition("=")
        if name == root:
            return value
    return None


def _keys_of(parent: str, overrides: list[str], bad_key: str, config_name: str) -> list[str]:
    rest = [o for o in overrides if o.lstrip("+~").partition("=")[0] != bad_key]
    try:
        cfg = compose_config(rest, config_name, output_dir=".")
    except Exception:  # noqa: BLE001 - the listing is a courtesy
        return []
    node = OmegaConf.select(cfg, parent) if parent else cfg
    return [str(k) for k in node.keys()] if node is not None and hasattr(node, "keys") else []
