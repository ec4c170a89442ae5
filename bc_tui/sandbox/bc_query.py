"""System query options as Business Central reads them, on top of ``odata_query``.

``odata_query`` parses the options; this adds what BC does on top: property names in
``$filter``/``$select``/``$orderby`` must exist on the entity type (400 otherwise), the default
order is by ``number``, and ``lastModifiedDateTime`` is served from the store's ``_modified``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .bc_entities import EntityDef, field_value, unknown_property
from .bc_paging import Getter, Ordering
from .http import ApiError
from .odata_query import Predicate, Query, QueryError, parse_query
from .precision import milliseconds

# Literals that contain name-like characters, removed before looking for property names.
_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_GUID_RE = re.compile(r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b")
_DATETIME_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?")
_NUMBER_RE = re.compile(r"\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?\b")
_NAME_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(\s*\()?")
_WORDS = frozenset({"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null", "guid"})


def filter_property_names(text: str) -> set[str]:
    """The property names a (syntactically valid) ``$filter`` mentions."""
    stripped = _STRING_RE.sub(" ", text)
    stripped = _GUID_RE.sub(" ", stripped)
    stripped = _DATETIME_RE.sub(" ", stripped)
    stripped = _NUMBER_RE.sub(" ", stripped)
    names: set[str] = set()
    for m in _NAME_RE.finditer(stripped):
        if m.group(2) or m.group(1) in _WORDS:  # a function call or an operator/keyword
            continue
        names.add(m.group(1))
    return names


class _FilterView:
    """A stored row as a $filter sees it: ``lastModifiedDateTime`` mapped, ``_`` fields hidden."""

    __slots__ = ("row",)

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def get(self, name: str, default: Any = None) -> Any:
        if name.startswith("_"):
            return default
        value = field_value(self.row, name)
        return default if value is None else value


@dataclass(frozen=True)
class ListQuery:
    """One list request's options, checked against the entity."""

    query: Query
    ordering: Ordering
    #: Identifies the filtered, ordered row list (cache key together with set and company).
    signature: tuple[Any, ...]
    needs_view: bool

    def matches(self, row: Mapping[str, Any]) -> bool:
        predicate: Predicate | None = self.query.filter
        if predicate is None:
            return True
        return predicate(_FilterView(row) if self.needs_view else row)  # type: ignore[arg-type]


def _getter(name: str) -> Getter:
    if name == "lastModifiedDateTime":
        return lambda row: milliseconds(row.get("_modified"))
    return lambda row: row.get(name)


def read_query(entity: EntityDef, params: Mapping[str, str]) -> ListQuery:
    """Parse and check the query options of a list request; raise ApiError(400)."""
    try:
        query = parse_query(params, allow_skip=True)
    except QueryError as exc:
        raise ApiError(400, "BadRequest", str(exc)) from None
    filter_text = params.get("$filter")
    names: set[str] = filter_property_names(filter_text) if filter_text else set()
    for name in sorted(names):
        if name not in entity.fields:
            raise unknown_property(entity, name)
    for name in query.select or ():
        if name not in entity.fields:
            raise unknown_property(entity, name)
    for name, _ in query.orderby:
        if name not in entity.fields:
            raise unknown_property(entity, name)
    order = tuple(query.orderby) or entity.default_order
    ordering = Ordering(tuple((_getter(name), desc) for name, desc in order))
    signature = (filter_text, order)
    return ListQuery(query, ordering, signature, needs_view="lastModifiedDateTime" in names)
