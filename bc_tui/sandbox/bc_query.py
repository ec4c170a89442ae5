"""System query options as Business Central reads them, on top of ``odata_query``.

``odata_query`` parses the options; this adds what BC does on top: property names in
``$filter``/``$select``/``$orderby`` must exist on the entity type (400 otherwise), the default
order is by ``number``, and ``lastModifiedDateTime`` is served from the store's ``_modified``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .bc_entities import EntityDef, field_value, unknown_property
from .bc_filter_rules import OR_ACROSS_FIELDS_MESSAGE, or_across_fields
from .bc_paging import Getter, Ordering
from .http import ApiError
from .odata_query import Predicate, Query, QueryError, parse_query
from .precision import bc_modified

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

    __slots__ = ("row", "whole_seconds")

    def __init__(self, row: Mapping[str, Any], whole_seconds: bool) -> None:
        self.row = row
        self.whole_seconds = whole_seconds

    def get(self, name: str, default: Any = None) -> Any:
        if name.startswith("_"):
            return default
        value = field_value(self.row, name, whole_seconds=self.whole_seconds)
        return default if value is None else value


@dataclass(frozen=True)
class ListQuery:
    """One list request's options, checked against the entity."""

    query: Query
    ordering: Ordering
    #: Identifies the filtered, ordered row list (cache key together with set and company).
    signature: tuple[Any, ...]
    needs_view: bool
    #: ``lastModifiedDateTime`` in whole seconds (``SandboxSettings.bc_modified_whole_seconds``).
    whole_seconds: bool = False

    def matches(self, row: Mapping[str, Any]) -> bool:
        predicate: Predicate | None = self.query.filter
        if predicate is None:
            return True
        return predicate(_FilterView(row, self.whole_seconds) if self.needs_view else row)  # type: ignore[arg-type]


def _getter(name: str, whole_seconds: bool) -> Getter:
    if name == "lastModifiedDateTime":
        return lambda row: bc_modified(row.get("_modified"), whole=whole_seconds)
    return lambda row: row.get(name)


def _expanded_names(text: str) -> list[str]:
    """The property names of ``$expand`` (``a($select=x),b/c``): top-level items, before ``(`` or ``/``."""
    names: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text + ","):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            item = text[start:i].strip()
            names.append(re.split(r"[(/]", item, maxsplit=1)[0].strip())
            start = i + 1
    return names


def refuse_expand(entity: EntityDef, params: Mapping[str, str]) -> None:
    """BC's 400 for ``$expand``: the sandbox's types have no navigation properties to expand.

    The real service has some (``picture``, ``paymentTerm``…); its ``$metadata`` declares them and
    the sandbox's does not, so the sandbox answers what BC answers for a name its metadata lacks
    (docs/sandbox-fidelity.md, "Business Central API v2.0").
    """
    text = params.get("$expand")
    if text is None:
        return
    for name in _expanded_names(text):
        if not name:
            raise ApiError(400, "BadRequest", f"Syntax error in $expand: '{text}' names an empty property.")
        if name in entity.fields:
            raise ApiError(
                400,
                "BadRequest",
                f"Property '{name}' on type 'Microsoft.NAV.{entity.type_name}' is not a navigation property "
                "or complex property. Only navigation properties can be expanded.",
            )
        raise unknown_property(entity, name)


#: Options that only a collection takes; on one record BC refuses them.
_COLLECTION_ONLY = ("$filter", "$orderby", "$top", "$skip", "$count", "$skiptoken")


def read_single_query(entity: EntityDef, params: Mapping[str, str]) -> tuple[str, ...] | None:
    """The ``$select`` of a request for one record, after BC's checks; raise ApiError(400)."""
    refuse_expand(entity, params)
    if any(option in params for option in _COLLECTION_ONLY):
        raise ApiError(
            400,
            "BadRequest",
            "The query specified in the URI is not valid. The requested resource is not a collection. "
            "Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections.",
        )
    return read_query(entity, params).query.select


def read_query(
    entity: EntityDef,
    params: Mapping[str, str],
    *,
    refuse_or_across_fields: bool = False,
    case_sensitive: bool = False,
    whole_seconds: bool = False,
) -> ListQuery:
    """Parse and check the query options of a list request; raise ApiError(400).

    ``refuse_or_across_fields`` applies BC's limit on ``or`` (see ``bc_filter_rules``);
    ``case_sensitive`` compares text in ``$filter`` exactly, as BC does; ``whole_seconds``
    shows ``lastModifiedDateTime`` to ``$filter`` and ``$orderby`` in whole seconds.
    """
    refuse_expand(entity, params)
    try:
        query = parse_query(params, allow_skip=True, case_sensitive=case_sensitive)
    except QueryError as exc:
        raise ApiError(400, "BadRequest", str(exc)) from None
    filter_text = params.get("$filter")
    if refuse_or_across_fields and filter_text and or_across_fields(filter_text):
        raise ApiError(400, "BadRequest", OR_ACROSS_FIELDS_MESSAGE)
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
    ordering = Ordering(tuple((_getter(name, whole_seconds), desc) for name, desc in order))
    signature = (filter_text, order, case_sensitive, whole_seconds)
    return ListQuery(
        query, ordering, signature, needs_view="lastModifiedDateTime" in names, whole_seconds=whole_seconds
    )
