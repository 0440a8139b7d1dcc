"""The one error layer: every user mistake the library reports is one of these two errors.

InvalidValue names the key, the bad value and what is allowed; DataError names the path of data
on disk that cannot be used. The command line prints either as one line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class InvalidValue(ValueError):
    """`key=value` is not valid; the message says what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not valid; {allowed}")

    def renamed(self, key: str) -> InvalidValue:
        """The same error under another key (a config key instead of an argument name)."""
        return InvalidValue(key, self.value, self.allowed)


class DataError(ValueError):
    """The data on disk cannot be used; the message names the path."""


def check_choice(key: str, value: Any, choices: Iterable[str]) -> None:
    """Raise InvalidValue unless `value` is one of `choices`."""
    choices = list(choices)
    if value not in choices:
        raise InvalidValue(key, value, f"choose one of: {', '.join(choices)}")


def check_int(key: str, value: Any, minimum: int = 1) -> None:
    """Raise InvalidValue unless `value` is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidValue(key, value, f"it must be an integer >= {minimum}")


def check_number(
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise InvalidValue unless `value` is a finite number within the given bounds."""
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    finite = number and (isinstance(value, int) or math.isfinite(value))
    below = low is not None and finite and (value <= low if low_open else value < low)
    above = high is not None and finite and (value >= high if high_open else value > high)
    if not finite or below or above:
        kind = "a finite number" if number and not finite else "a number"  # nan, inf, -inf
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        if low is not None and high is not None:
            allowed = f"it must be {kind} in {left}{low:g}, {high:g}{right}"
        elif low is not None:
            allowed = f"it must be {kind} {'>' if low_open else '>='} {low:g}"
        else:
            allowed = f"it must be {kind}"
        raise InvalidValue(key, value, allowed)


def check_finite(key: str, value: Any) -> None:
    """Raise InvalidValue for the first nan or +-inf in `value`: a number, or lists and mappings
    of them (a config node; `key` names it); anything else passes."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(key, value, "it must be a finite number")
    if isinstance(value, Mapping):
        for name, item in value.items():
            check_finite(f"{key}.{name}", item)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if any(isinstance(item, float) and not math.isfinite(item) for item in value):
            raise InvalidValue(key, list(value), "each of its items must be a finite number")
        for item in value:
            check_finite(key, item)
