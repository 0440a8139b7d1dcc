"""The one error layer: every user mistake the library reports is one of these two errors.

InvalidValue names the key, the bad value and what is allowed; DataError names the path of data
on disk that cannot be used. The command line prints either as one line.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """Raise InvalidValue unless `value` is a number within the given bounds."""
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    below = low is not None and number and (value <= low if low_open else value < low)
    above = high is not None and number and (value >= high if high_open else value > high)
    if not number or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        if low is not None and high is not None:
            allowed = f"it must be a number in {left}{low:g}, {high:g}{right}"
        elif low is not None:
            allowed = f"it must be a number {'>' if low_open else '>='} {low:g}"
        else:
            allowed = "it must be a number"
        raise InvalidValue(key, value, allowed)
