"""File names as log and error messages show them: one line of valid text, whatever the bytes.

A name that is not valid UTF-8 holds surrogates (Python's surrogateescape) that a UTF-8 log
file cannot encode (a logging error, the line lost); a newline in a name splits the line.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code > 0xFFFF:
        return f"\\U{code:08x}"
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}")


def _plain(char: str, ascii_only: bool) -> bool:
    if ascii_only and ord(char) > 0x7E:
        return False
    # Cc: controls (newline...); Cs: surrogates; Zl, Zp: line and paragraph separators
    return unicodedata.category(char) not in ("Cc", "Cs", "Zl", "Zp")


def shown(path: object, ascii_only: bool = False) -> str:
    """`path` (or any text) as one printable line: undecodable bytes as \\xff, control
    characters as \\n, \\x1b...; with `ascii_only`, every non-ASCII character as \\u00e9."""
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    return "".join(c if _plain(c, ascii_only) else _escaped(c) for c in text)


def _listed(names: Sequence[str], most: int = 3) -> str:
    quoted = ", ".join(f"'{shown(name)}'" for name in names[:most])
    return quoted + (f" and {len(names) - most} more" if len(names) > most else "")


def class_difference(expected: Sequence[str], found: Sequence[str], split: str) -> str:
    """How the class folders `found` in `split` differ from those `expected` (the training
    set's): which are missing, which are extra, and names equal once normalized (NFC)."""
    missing = [name for name in expected if name not in found]
    extra = [name for name in found if name not in expected]
    normal = {unicodedata.normalize("NFC", name): name for name in missing}
    pairs = [
        (normal[unicodedata.normalize("NFC", name)], name)
        for name in extra
        if unicodedata.normalize("NFC", name) in normal
    ]
    paired = {name for pair in pairs for name in pair}
    missing = [name for name in missing if name not in paired]
    extra = [name for name in extra if name not in paired]
    parts = []
    if pairs:
        forms = ", ".join(
            f"'{shown(ours, True)}' vs '{shown(theirs, True)}'" for ours, theirs in pairs[:3]
        )
        parts.append(
            f"the same name{'s' if len(pairs) > 1 else ''} in another Unicode normalization "
            f"(train vs {split}: {forms}; rename them alike, e.g. to NFC)"
        )
    if missing:
        parts.append(f"missing from {split}: {_listed(missing)}")
    if extra:
        parts.append(f"extra in {split}: {_listed(extra)}")
    return "; ".join(parts) or "the same names in another order"
