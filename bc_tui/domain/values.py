"""How bc-tui compares field values across the two services.

BC and Dataverse spell "no value" differently (BC sends ``""``, Dataverse ``null``), send numbers
with different precision (``1000`` vs ``1000.0``), and BC stores *codes* upper-case while
Dataverse keeps what was typed. These rules keep such differences from looking like changes.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def is_empty(value: Any) -> bool:
    """True for ``None`` and blank strings: the values a *not-null* field mapping never writes."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def _as_number(value: Any) -> Decimal | None:
    """The value as a Decimal when it is a real number (bools are not numbers here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        # str() keeps 0.1 as 0.1 instead of the binary expansion.
        return Decimal(str(value))
    return None


def _parse_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def same_value(left: Any, right: Any, *, is_code: bool = False) -> bool:
    """True when two field values mean the same thing.

    - ``None`` and ``""`` are equal (no value on either side);
    - numbers compare numerically, also against a numeric string from the other service;
    - code values compare trimmed and case-insensitively, as BC does for Code fields;
    - everything else compares exactly.
    """
    if left is None:
        left = ""
    if right is None:
        right = ""
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is not None or right_number is not None:
        if left_number is None and isinstance(left, str):
            left_number = _parse_number(left)
        if right_number is None and isinstance(right, str):
            right_number = _parse_number(right)
        if left_number is not None and right_number is not None:
            return left_number == right_number
        return False
    if is_code and isinstance(left, str) and isinstance(right, str):
        return left.strip().casefold() == right.strip().casefold()
    return bool(left == right)


def match_key(value: Any, *, case_sensitive: bool = False) -> str:
    """The normalized text used to match values in match-based coupling.

    Trimmed, case-folded unless ``case_sensitive``; numbers in a canonical form so ``1000`` and
    ``1000.0`` match; ``None`` becomes ``""`` (and blank keys never match anything).
    """
    if value is None:
        return ""
    number = _as_number(value)
    if number is not None:
        normalized = number.normalize()
        return format(normalized, "f")
    text = str(value).strip()
    return text if case_sensitive else text.casefold()
