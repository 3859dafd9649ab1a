"""Limits on untrusted JSON and text, checked before anything reaches the database.

Every parse path (import files, API bodies, stored metadata) goes through ``loads`` or ``check``:
nesting is bounded (a 100,000-deep array is a clear error, not a ``RecursionError``; stored
metadata stays shallow enough for exports and jobs to serialise), and strings may not hold lone
surrogates (not encodable as UTF-8, so neither storable nor exportable) nor control characters other
than tab, newline and carriage return (NUL is refused by PostgreSQL; the others are never meant).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
BAD_CHAR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class JsonInputError(ValueError):
    """The JSON is malformed, nested too deeply or holds text that cannot be stored."""


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a lone surrogate or a control character), or None."""
    match = BAD_CHAR.search(text)
    if match is None:
        return None
    char = match.group()
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"contains {kind} (U+{ord(char):04X}) at position {match.start()}"


def problem(value: Any, *, max_depth: int = MAX_DEPTH) -> str | None:
    """The first problem of a parsed JSON value (depth over ``max_depth``, bad text), or None.

    Iterative, so a value nested deeper than Python's recursion limit is reported, not crashed on.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, (dict, list)) and depth > max_depth:
            return f"{path or 'value'}: nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            for key in item:
                if isinstance(key, str) and (reason := text_problem(key)):
                    return f"{path or 'value'}: a key {reason}"
            children = [(child, f"{path}.{key}" if path else str(key)) for key, child in item.items()]
        elif isinstance(item, list):
            children = [(child, f"{path}[{i}]") for i, child in enumerate(item)]
        elif isinstance(item, str) and (reason := text_problem(item)):
            return f"{path or 'value'}: {reason}"
        else:
            continue
        stack.extend((child, depth + 1, where) for child, where in reversed(children))  # file order
    return None


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> Any:
    """``value`` unchanged, or ``JsonInputError`` naming its first problem."""
    reason = problem(value, max_depth=max_depth)
    if reason:
        raise JsonInputError(reason)
    return value


def parse(text: str | bytes) -> Any:
    """``json.loads`` that turns runaway nesting into ``JsonInputError`` (``JSONDecodeError`` passes through)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JsonInputError(f"nested deeper than {MAX_DEPTH} levels") from None


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``parse`` then ``check``: the value, or ``JsonInputError`` / ``JSONDecodeError``."""
    return check(parse(text), max_depth=max_depth)


MAX_DB_INT = 2**63 - 1


def whole_number(raw: str, maximum: int = MAX_DB_INT, *, signed: bool = False) -> int | None:
    """The one parser of integers from a form or a query string: ``raw`` as an int when it is ASCII
    digits 0-9 (after one "-" when ``signed``), at most 30 of them and no bigger than ``maximum`` in
    size; else None.

    ``int`` alone reads "٣" (U+0663) as 3 and "1_0" as 10; ``str.isdigit`` alone accepts "²".
    """
    raw = raw.strip()
    digits = raw[1:] if signed and raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
        return None
    value = int(raw)
    return value if abs(value) <= maximum else None


DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")


def decimal_number(raw: str) -> float | None:
    """A finite float from ASCII text ("0.1", "-2", "1e-4"), else None: ``float`` alone also reads
    "١.٥", "1_0", "nan" and "inf"."""
    raw = raw.strip()
    if len(raw) > 60 or not DECIMAL.fullmatch(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None
