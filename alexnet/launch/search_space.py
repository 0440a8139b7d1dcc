"""Hydra's sweep syntax as an Optuna search space.

`choice(a, b)` is categorical; `range(start, stop, step)` an integer (or stepped float)
distribution over the values Hydra's range would give; `interval(low, high)` a float range,
`tag(log, ...)` on a log scale and `tag(int, ...)` over integers. A plain `key=value` stays fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, Transformer

from alexnet.errors import InvalidValue


def parse(
    params: Mapping[str, Any] | None, arguments: Sequence[str]
) -> tuple[dict[str, Any], list[str]]:
    """The search space (name -> optuna distribution, the command line's sweeps after
    `hydra.sweeper.params`) and the fixed overrides, as given."""
    lines = [f"{key}={value}" for key, value in (params or {}).items()] + list(arguments)
    space: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    for override in OverridesParser.create().parse_overrides(lines):
        name = override.get_key_element()
        space.pop(name, None)
        fixed.pop(name, None)
        if override.is_sweep_override():
            space[name] = distribution(override)
        else:
            fixed[name] = override.input_line
    return space, list(fixed.values())


def distribution(override: Override) -> Any:
    """The optuna distribution of one sweep override."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    sweep = override.value()
    if override.is_choice_sweep() or (override.is_range_sweep() and sweep.shuffle):
        return CategoricalDistribution(list(override.sweep_iterator(Transformer.encode)))
    if override.is_range_sweep():
        values = list(override.sweep_iterator())
        if not values:
            raise InvalidValue(
                override.get_key_element(), override.get_value_string(), "the range holds no value"
            )
        if all(isinstance(v, int) for v in (sweep.start, sweep.stop, sweep.step)):
            return IntDistribution(min(values), max(values), step=abs(sweep.step))
        return FloatDistribution(min(values), max(values), step=abs(sweep.step))
    tags = sweep.tags
    if "int" in tags:
        return IntDistribution(int(sweep.start), int(sweep.end), log="log" in tags)
    return FloatDistribution(sweep.start, sweep.end, log="log" in tags)


def grid(space: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Every value of each distribution, for optuna's GridSampler; an interval has no grid."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    choices: dict[str, list[Any]] = {}
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            choices[name] = list(dist.choices)
        elif getattr(dist, "step", None) is not None and not getattr(dist, "log", False):
            count = round((dist.high - dist.low) / dist.step) + 1
            kind = int if isinstance(dist, IntDistribution) else float
            choices[name] = [kind(dist.low + i * dist.step) for i in range(count)]
        else:
            raise InvalidValue(
                name,
                "interval(...)",
                "a GridSampler needs choice(...) or range(...) for every parameter",
            )
    return choices


def trial_overrides(params: Mapping[str, Any], fixed: Sequence[str]) -> list[str]:
    """A trial's overrides: its drawn parameters, then the fixed ones."""
    return [f"{name}={value}" for name, value in params.items()] + list(fixed)
