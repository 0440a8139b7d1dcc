"""Check a command line's overrides before Hydra runs them, so that a mistake is one line.

Hydra reports a bad override (an unknown option, a wrong type, a key that does not exist) as a
multi-line message with a stack-trace hint. Here the same overrides are composed first, each
value of a sweep (``activation=relu,tanh``) in turn, and the first failure becomes an
InvalidValue naming the key, the value and what is allowed. So do a nan or inf anywhere in the
config, a YAML syntax error or a shadowed file in ``--config-dir``, and an output folder that
cannot be created.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    OmegaConfBaseException,
    ValidationError,
)

from alexnet.config.compose import CONF_DIR, compose_config
from alexnet.config.folder_checks import cannot_create, check_config_dir, yaml_error
from alexnet.errors import InvalidValue, check_finite

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
    config groups of `--config-dir DIR` too, and its own config if `--config-name` names one),
    for a nan or inf in the config, and for an output folder that cannot be created."""
    config_dir, config_name, argv = _hydra_options(argv, config_name)
    if any(arg.startswith("-") and arg not in HYDRA_FLAGS for arg in argv):
        return  # --help, --cfg, --config-path ...: Hydra's own business
    if config_dir:
        check_config_dir(config_dir, config_name)
    ours = [arg for arg in argv if arg not in HYDRA_FLAGS]
    overrides = [arg for arg in ours if not arg.lstrip("+~").startswith(("hydra.", "hydra/"))]
    multirun = any(arg in HYDRA_FLAGS for arg in argv)
    variants = _variants(overrides, multirun)
    for variant in variants:  # nothing is resolved or written
        _check_finite(_composed(variant, config_name, config_dir))
    hydra = [arg for arg in ours if arg not in overrides]
    _check_hydra(variants[0], hydra, config_name, config_dir, multirun)


def _check_finite(cfg: DictConfig) -> None:
    """Refuse a nan or inf anywhere in `cfg` (as composed, not resolved)."""
    values = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(values, dict)
    for key, value in values.items():
        check_finite(str(key), value)


def _hydra_options(argv: Sequence[str], config_name: str) -> tuple[str | None, str, list[str]]:
    """Hydra's `--config-dir DIR` (`-cd DIR`, `--config-dir=DIR`) as an absolute path, its
    `--config-name NAME` (`-cn`; default: `config_name`), and the other arguments."""
    found: dict[str, str] = {}
    rest, args = [], list(argv)
    while args:
        arg = args.pop(0)
        name = {"-cd": "--config-dir", "-cn": "--config-name"}.get(arg, arg)
        if name in ("--config-dir", "--config-name") and args:
            found[name] = args.pop(0)
        elif arg.startswith(("--config-dir=", "--config-name=")):
            name, _, found[name] = arg.partition("=")
        else:
            rest.append(arg)
    folder = found.get("--config-dir")
    folder = str(Path(folder).expanduser().resolve()) if folder else None
    return folder, found.get("--config-name", config_name), rest


def _compose(
    overrides: list[str], config_name: str, config_dir: str | None, with_hydra: bool = False
) -> DictConfig:
    """The config as Hydra composes it: from the lab's configs, then `config_dir`'s."""
    if config_dir and (Path(config_dir) / f"{config_name}.yaml").is_file():
        # One's own primary config (--config-name): from its folder, the lab's behind it.
        with initialize_config_dir(config_dir=config_dir, version_base="1.3"):
            search = f"hydra.searchpath=[file://{CONF_DIR}]"
            return compose(config_name, [*overrides, search], return_hydra_config=with_hydra)
    search = [f"hydra.searchpath=[file://{config_dir}]"] if config_dir else []
    return compose_config([*overrides, *search], config_name, output_dir=".", with_hydra=with_hydra)


def _composed(overrides: list[str], config_name: str, config_dir: str | None) -> DictConfig:
    """`_compose`, each failure as one InvalidValue."""
    try:
        return _compose(overrides, config_name, config_dir)
    except yaml.YAMLError as err:
        raise yaml_error(err, config_dir) from None
    except (MissingConfigException, ConfigCompositionException) as err:
        if isinstance(err.__cause__, yaml.YAMLError):
            raise yaml_error(err.__cause__, config_dir) from None
        raise _one_line(err, overrides, config_name, config_dir) from None
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or "overrides"
        raise InvalidValue(key, _given(key, overrides), str(err).splitlines()[0]) from None


def _check_hydra(
    overrides: list[str], hydra: list[str], config_name: str, config_dir: str | None, multirun: bool
) -> None:
    """Refuse a nan or inf in the hydra node (the launcher's and sweeper's settings), and a run
    (or sweep) dir that cannot be created, naming the key that places it. A hydra override
    that does not compose is left to Hydra."""
    try:
        fixed = OverridesParser.create().parse_overrides(hydra)
        hydra = [o.input_line or "" for o in fixed if not o.is_sweep_override()]
        cfg = _compose([*overrides, *hydra], config_name, config_dir, with_hydra=True)
        node = "hydra.sweep.dir" if multirun else "hydra.run.dir"
        folder = Path(str(OmegaConf.select(cfg, node, throw_on_missing=True))).expanduser()
    except Exception:  # noqa: BLE001 - Hydra's own to report
        return
    check_finite("hydra", OmegaConf.to_container(cfg.hydra, resolve=False))
    if multirun:
        _check_launcher(cfg.hydra.get("launcher"))
    problem = cannot_create(folder)
    if problem is None:
        return
    key = node
    if _given(node, hydra) is None and _given("paths.log_dir", overrides) is not None:
        key = "paths.log_dir"
    given = _given(key, [*hydra, *overrides])
    value = str(folder.absolute()) if given is None else given
    raise InvalidValue(key, value, f"cannot create it: {problem}")


def _check_launcher(launcher: DictConfig | None) -> None:
    """The SLURM launcher's times, checked here for the command line's one line (the launcher
    checks them again before it submits anything)."""
    if launcher is None or not str(launcher.get("_target_", "")).endswith("SlurmLauncher"):
        return
    from alexnet.launch.slurm_launcher import check_timing

    given = OmegaConf.to_container(launcher, resolve=False)
    assert isinstance(given, dict)
    check_timing({k: v for k, v in given.items() if isinstance(v, (int, float))})


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


def _one_line(
    err: Exception, overrides: list[str], config_name: str, config_dir: str | None
) -> InvalidValue:
    if isinstance(err, MissingConfigException) and err.missing_cfg_file:
        group, _, option = err.missing_cfg_file.rpartition("/")
        # A list of options (logger=[tensorboard,mlfow]) comes without Hydra's list of choices.
        roots = [CONF_DIR, *([Path(config_dir)] if config_dir else [])]
        known = err.options or [p.stem for root in roots for p in (root / group).glob("*.yaml")]
        options = sorted({o for o in known if not o.startswith("_")})
        key = group or "--config-name"  # no group: the primary config
        return InvalidValue(key, option, f"choose one of: {', '.join(options)}")
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
        known = _keys_of(parent, overrides, key, config_name, config_dir)
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


def _keys_of(
    parent: str, overrides: list[str], bad_key: str, config_name: str, config_dir: str | None
) -> list[str]:
    rest = [o for o in overrides if o.lstrip("+~").partition("=")[0] != bad_key]
    try:
        cfg = _compose(rest, config_name, config_dir)
    except Exception:  # noqa: BLE001 - the listing is a courtesy
        return []
    node = OmegaConf.select(cfg, parent) if parent else cfg
    return [str(k) for k in node.keys()] if node is not None and hasattr(node, "keys") else []
