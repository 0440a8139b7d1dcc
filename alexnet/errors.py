"""The one error type for bad user values: it names the key, the value and what is allowed."""

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


def check_choice(key: str, value: Any, choices: Iterable[str]) -> None:
    """Raise InvalidValue unless `value` is one of `choices`."""
    choices = list(choices)
    if value not in choices:
        raise InvalidValue(key, value, f"choose one of: {', '.join(choices)}")


def check_int(key: str, value: Any, minimum: int = 1) -> None:
    """Raise InvalidValue unless `value` is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidValue(key, value, f"it must be an integer >= {minimum}")
