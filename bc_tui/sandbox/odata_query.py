"""OData v4 system query options as the two services implement them (server side).

This module is the face of the query options: the $filter tokenizer (``odata_lexer``), its
compiled operands (``odata_operands``) and parser (``odata_filter``) live beside it, and the
names the API modules use are importable from here.

CONTRACT (implemented by the odata-query work; used by bc_api.py and dataverse_api.py):

    parse_filter(text) -> Predicate          # Callable[[Mapping[str, Any]], bool]
    parse_orderby(text) -> list[OrderKey]    # [(field, descending)]
    parse_select(text) -> list[str]
    sort_rows(rows, order) -> list[row]      # stable; None sorts first ascending
    parse_query(params, allow_skip=True, max_top=None) -> Query

All raise QueryError (message in the services' style) on syntax errors, unknown functions,
``$skip`` where it is not allowed, negative ``$top``, etc. The API modules turn QueryError
into a 400 OData error.

$filter grammar: ``eq ne gt ge lt le``, ``and or not``, parentheses, ``contains(f,'x')``,
``startswith(f,'x')``, ``endswith(f,'x')``, ``tolower(f)``/``toupper(f)``; literals: strings in
single quotes with ``''`` as an escaped quote, integers, decimals, ``true``/``false``/``null``,
datetimes (``2026-01-01T00:00:00Z``, with optional fraction and offset), dates, and GUIDs
(bare ``00000000-0000-0000-0000-000000000000`` or ``guid'…'``). Property paths are simple
names (Dataverse lookups appear as ``_parentcustomerid_value``). Comparison coerces: a
datetime literal against an ISO string field compares as datetimes; a GUID compares
case-insensitively; string ``eq`` is case-insensitive as on both real services (SQL collation).
A missing field is null.

Also provided: ``apply_select(row, select) -> dict`` and the string functions ``trim``,
``length`` and ``concat``. Positions in error messages are 0-based character offsets into the
``$filter`` text (as in Microsoft.OData's "Syntax error at position N" messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .odata_filter import Predicate, key_candidates, parse_filter
from .odata_lexer import NAME_RE, QueryError, aware

# The contract above promises these names here; the API modules import them from this module.
__all__ = [
    "OrderKey",
    "Predicate",
    "Query",
    "QueryError",
    "apply_select",
    "key_candidates",
    "parse_filter",
    "parse_orderby",
    "parse_query",
    "parse_select",
    "sort_rows",
]

OrderKey = tuple[str, bool]


@dataclass(frozen=True)
class Query:
    """The parsed system query options of one request (``None``/empty when absent)."""

    filter: Predicate | None = None
    orderby: tuple[OrderKey, ...] = ()
    select: tuple[str, ...] | None = None
    top: int | None = None
    skip: int | None = None
    count: bool = False
    skiptoken: str | None = None


def parse_orderby(text: str) -> list[OrderKey]:
    """Parse ``$orderby`` (``name asc, city desc``) into ``[(field, descending)]``."""
    keys: list[OrderKey] = []
    for item in text.split(","):
        words = item.split()
        if not words or len(words) > 2 or not NAME_RE.fullmatch(words[0]):
            raise QueryError(
                f"The $orderby clause '{item.strip()}' is not a property name optionally followed by asc or desc."
            )
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise QueryError(f"The $orderby direction '{words[1]}' is not valid; use asc or desc.")
        keys.append((words[0], direction == "desc"))
    return keys


def parse_select(text: str) -> list[str]:
    """Parse ``$select`` (``name,city``) into property names; ``*`` is kept as-is."""
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if name != "*" and not NAME_RE.fullmatch(name):
            raise QueryError(f"The $select item '{name}' is not a property name.")
    return names


def _sort_key(value: Any) -> tuple[int, Any]:
    # Rank types so a column mixing numbers and text still sorts instead of raising;
    # None ranks lowest, so it comes first ascending and last descending.
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value.casefold())  # case-insensitive collation, as on the services
    if isinstance(value, datetime):
        return (3, aware(value))
    return (4, str(value))


def sort_rows(rows: Iterable[Mapping[str, Any]], order: Iterable[OrderKey]) -> list[Any]:
    """Sort rows by several keys, stably; strings case-insensitively; None first ascending."""
    result = list(rows)
    # Stable sorts applied from the least to the most significant key give a multi-key sort.
    for name, descending in reversed(list(order)):
        result.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    return result


def apply_select(row: Mapping[str, Any], select: Iterable[str] | None) -> dict[str, Any]:
    """Project a row onto the selected properties, keeping annotations such as ``@odata.etag``.

    A selected property the row lacks comes back as null, as the services do for a
    property that is empty. ``None`` or ``*`` selects everything.
    """
    if select is None:
        return dict(row)
    names = list(select)
    if "*" in names:
        return dict(row)
    projected = {key: value for key, value in row.items() if key.startswith("@")}
    for name in names:
        projected[name] = row.get(name)
    return projected


_KNOWN_OPTIONS = frozenset({"$filter", "$orderby", "$select", "$top", "$skip", "$count", "$skiptoken"})


def _non_negative_int(option: str, text: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit():  # rejects "-1", "1.5", "" and "ten" alike
        raise QueryError(f"The value '{text}' of {option} is not valid; it must be a non-negative integer.")
    return int(stripped)


def parse_query(
    params: Mapping[str, str],
    *,
    allow_skip: bool = True,
    max_top: int | None = None,
    case_sensitive: bool = False,
    like_patterns: bool = False,
) -> Query:
    """Read the system query options (``$…``) of a request; other parameters are ignored.

    ``allow_skip=False`` refuses ``$skip`` as Dataverse does; ``max_top`` refuses a larger
    ``$top``; ``case_sensitive`` compares text in ``$filter`` exactly and ``like_patterns`` reads its text
    functions' arguments as LIKE patterns (see ``parse_filter``).
    Unknown ``$`` options (``$expand``, ``$apply``…) raise QueryError.
    """
    for key in params:
        if key.startswith("$") and key not in _KNOWN_OPTIONS:
            raise QueryError(f"The query parameter {key} is not supported")
    filter_ = (
        parse_filter(params["$filter"], case_sensitive=case_sensitive, like_patterns=like_patterns)
        if "$filter" in params
        else None
    )
    orderby = tuple(parse_orderby(params["$orderby"])) if "$orderby" in params else ()
    select: tuple[str, ...] | None = None
    if "$select" in params:
        names = parse_select(params["$select"])
        select = None if "*" in names else tuple(names)
    top = _non_negative_int("$top", params["$top"]) if "$top" in params else None
    if top is not None and max_top is not None and top > max_top:
        raise QueryError(f"The value {top} of $top is larger than the maximum of {max_top}.")
    skip: int | None = None
    if "$skip" in params:
        if not allow_skip:
            raise QueryError("The query parameter $skip is not supported")
        skip = _non_negative_int("$skip", params["$skip"])
    count = False
    if "$count" in params:
        flag = params["$count"].strip().lower()
        if flag not in ("true", "false"):
            raise QueryError(f"The value '{params['$count']}' of $count is not valid; use true or false.")
        count = flag == "true"
    return Query(
        filter=filter_,
        orderby=orderby,
        select=select,
        top=top,
        skip=skip,
        count=count,
        skiptoken=params.get("$skiptoken"),
    )
