"""Build OData ``$filter`` expressions from values, so that user input never becomes syntax.

Field names come from code (mappings), never from the user, and are checked anyway; values are
always rendered as literals by ``quote``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def quote(value: Any) -> str:
    """Render ``value`` as an OData literal.

    Strings are single-quoted with ``'`` doubled; ``None`` is ``null``; booleans ``true``/``false``;
    datetimes are UTC with ``Z`` (naive ones are taken as UTC); dates ``YYYY-MM-DD``; UUIDs bare.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} cannot be used in a filter")
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} cannot be used in a filter")
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        text = moment.astimezone(UTC).isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot use a {type(value).__name__} in a filter")


def field(name: str) -> str:
    """Check that ``name`` is a plain property path (``number``, ``_parentcustomerid_value``)."""
    if not _FIELD.match(name):
        raise ValueError(f"{name!r} is not a field name")
    return name


def eq(name: str, value: Any) -> str:
    """``name eq value``."""
    return f"{field(name)} eq {quote(value)}"


def ne(name: str, value: Any) -> str:
    """``name ne value``."""
    return f"{field(name)} ne {quote(value)}"


def startswith(name: str, text: str, *, ignore_case: bool = False) -> str:
    """``startswith(name,'text')``; with ``ignore_case``, ``startswith(tolower(name),'text lowered')``."""
    if ignore_case:
        return f"startswith(tolower({field(name)}),{quote(str(text).lower())})"
    return f"startswith({field(name)},{quote(str(text))})"


def like_literal(text: str) -> str:
    """``text`` to be matched as it is by Dataverse's ``contains``/``startswith``/``endswith``.

    Dataverse reads their text as a SQL LIKE pattern, where ``%``, ``_`` and ``[`` are wildcards
    ("Filter rows using OData", "Use wildcard characters"); in brackets each stands for itself.
    Business Central does not read them so: use this for Dataverse only. Quotes are still
    doubled by ``quote``.
    """
    return "".join(f"[{char}]" if char in "%_[" else char for char in str(text))


def contains(name: str, text: str, *, ignore_case: bool = False) -> str:
    """``contains(name,'text')``; with ``ignore_case``, ``contains(tolower(name),'text lowered')``."""
    if ignore_case:
        return f"contains(tolower({field(name)}),{quote(str(text).lower())})"
    return f"contains({field(name)},{quote(str(text))})"


def eq_ignoring_case(name: str, text: str) -> str:
    """``tolower(name) eq 'text lowered'``: the same answer whether the service compares text
    case-sensitively (Business Central) or not (docs/sandbox-fidelity.md, "Business Central API v2.0")."""
    return f"tolower({field(name)}) eq {quote(str(text).lower())}"


def and_(*clauses: str | None) -> str:
    """Join the non-empty clauses with ``and`` (each parenthesised); empty string when none."""
    parts = [c for c in clauses if c]
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({c})" for c in parts)


def or_(*clauses: str | None) -> str:
    """Join the non-empty clauses with ``or`` (each parenthesised); empty string when none."""
    parts = [c for c in clauses if c]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({c})" for c in parts)


def in_(name: str, values: Any, *, ignore_case: bool = False) -> str:
    """``name eq v1 or name eq v2 …`` (portable: Business Central has no ``in``).

    With ``ignore_case``, text values are compared as ``tolower(name) eq 'v1 lowered'`` (other
    values as they are): still one field, so Business Central takes the ``or``."""
    if ignore_case:
        return or_(*(eq_ignoring_case(name, v) if isinstance(v, str) else eq(name, v) for v in values))
    return or_(*(eq(name, v) for v in values))
