"""``$expand`` of single-valued navigation properties (lookups): ``$expand=parentcustomerid_account($select=name)``.

Each expanded lookup is answered as the related record (``$select`` narrows it) or null when
the lookup is empty or points at another table. Collection-valued navigation properties and
nested options other than ``$select`` are 501: the sandbox does not emulate them. See
docs/sandbox-fidelity.md, "Query functions, formatted values, counts and aggregation".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .dataverse_errors import E_BAD_REQUEST, bad_request
from .dataverse_query_functions import split_outside
from .dataverse_rows import present
from .dataverse_tables import TABLES, UNSTORED_TARGETS, Table
from .http import ApiError
from .store import EntityStore

_ITEM_RE = re.compile(r"^\s*(?P<nav>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\((?P<options>.*)\))?\s*$", re.DOTALL)


@dataclass(frozen=True)
class Expansion:
    """One expanded lookup: its navigation property, the value field it reads and the related table."""

    navigation: str
    value_field: str
    target: Table
    select: tuple[str, ...] | None


def parse_expand(text: str, table: Table) -> tuple[Expansion, ...]:
    """Read ``$expand``; 400 for what the service refuses, 501 for what the sandbox does not emulate."""
    expansions = []
    for item in _split(text):
        match = _ITEM_RE.match(item)
        if match is None:
            raise bad_request(f"The $expand item '{item.strip()}' is not valid.")
        navigation = match.group("nav")
        found = table.navigation(navigation)
        if found is None:
            raise bad_request(f"Could not find a property named '{navigation}' on type '{table.type_name}'.")
        lookup, target_set = found
        target = TABLES.get(target_set)
        if target is None or target_set in UNSTORED_TARGETS:
            raise ApiError(
                501, E_BAD_REQUEST, f"The sandbox does not store '{target_set}', so it can't expand '{navigation}'."
            )
        expansions.append(
            Expansion(navigation, lookup.value_field, target, _nested_select(match.group("options"), target))
        )
    return tuple(expansions)


def expand_row(
    store: EntityStore, row: Mapping[str, Any], expansions: tuple[Expansion, ...], annotations: str | None
) -> dict[str, Any]:
    """The expanded lookups of one stored row, by navigation property."""
    out: dict[str, Any] = {}
    for expansion in expansions:
        key = row.get(expansion.value_field)
        related = store.get(expansion.target.store_set, str(key)) if key is not None else None
        out[expansion.navigation] = (
            None if related is None else present(store, expansion.target, related, expansion.select, annotations)
        )
    return out


def context_shape(select: tuple[str, ...] | None, expansions: tuple[Expansion, ...]) -> str:
    """The ``(…)`` part of ``@odata.context`` for a select with expansions."""
    parts = list(select or ())
    for expansion in expansions:
        parts.append(f"{expansion.navigation}({','.join(expansion.select or ())})")
    return f"({','.join(parts)})" if parts else ""


def _split(text: str) -> list[str]:
    return [item for item in split_outside(text, ",") if item.strip()]


def _nested_select(options: str | None, target: Table) -> tuple[str, ...] | None:
    if options is None or not options.strip():
        return None
    select: tuple[str, ...] | None = None
    for option in options.split(";"):
        name, _, value = option.partition("=")
        if name.strip() != "$select":
            raise ApiError(
                501, E_BAD_REQUEST, f"The sandbox does not emulate '{name.strip()}' inside $expand; only $select."
            )
        names = tuple(n.strip() for n in value.split(",") if n.strip())
        for column in names:
            if column not in target.properties:
                raise bad_request(f"Could not find a property named '{column}' on type '{target.type_name}'.")
        select = names
    return select
