"""Stored Dataverse rows as the Web API shows them: property names, ETag, lookup annotations."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from .dataverse_errors import etag
from .dataverse_formatted import FORMATTED_VALUE, formatted_value
from .dataverse_tables import LOGICAL_NAMES, UNSTORED_TARGETS, Table
from .precision import whole_seconds
from .store import EntityStore

#: API properties that the store keeps under another name.
STORED_NAME = {"versionnumber": "_version", "modifiedon": "_modified"}
_HIDDEN = frozenset({"_version", "_modified"})
#: Where the service stops counting (``$count``, ``totalrecordcount``).
COUNT_LIMIT = 5000
#: How $orderby reads each property the store keeps under another name (modifiedon: whole seconds).
ORDER_SOURCES: dict[str, Any] = {**STORED_NAME, "modifiedon": lambda row: whole_seconds(row.get("_modified"))}


def api_value(row: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A property of a stored row as the API shows it (``modifiedon`` in whole seconds)."""
    if name == "modifiedon":
        return whole_seconds(row.get("_modified", default))
    return row.get(STORED_NAME.get(name, name), default)


class RowView(Mapping[str, Any]):
    """A stored row as the API names its properties, for ``$filter`` predicates."""

    __slots__ = ("row",)

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def get(self, name: str, default: Any = None) -> Any:
        if name in _HIDDEN:
            return default
        return api_value(self.row, name, default)

    def __getitem__(self, name: str) -> Any:
        if name in _HIDDEN:
            raise KeyError(name)
        if name == "modifiedon":
            return whole_seconds(self.row["_modified"])
        return self.row[STORED_NAME.get(name, name)]

    def __iter__(self) -> Iterator[str]:
        for name in self.row:
            if name not in _HIDDEN:
                yield name
        yield from STORED_NAME

    def __len__(self) -> int:
        return len(self.row)


def present(
    store: EntityStore, table: Table, row: Mapping[str, Any], select: tuple[str, ...] | None, annotations: str | None
) -> dict[str, Any]:
    """A stored row as the API shows it: ETag, every column (null when empty), no system fields."""
    out: dict[str, Any] = {"@odata.etag": etag(row)}
    names = table.properties if select is None else (table.primary_key, *select)
    formatted = bool(annotations and wants(annotations, FORMATTED_VALUE))
    for name in names:
        if name in out:
            continue
        value = api_value(row, name)
        if annotations and value is not None and name.startswith("_") and name.endswith("_value"):
            _annotate_lookup(store, table, name, str(value), annotations, out)
        elif formatted and (text := formatted_value(table, name, value)) is not None:
            out[f"{name}@{FORMATTED_VALUE}"] = text
        out[name] = value
    return out


def wants(annotations: str, name: str) -> bool:
    """Whether an ``odata.include-annotations`` list (with ``*`` wildcards) asks for annotation ``name``."""
    return any(fnmatch.fnmatchcase(name, p.strip()) for p in annotations.split(",") if p.strip())


def _annotate_lookup(
    store: EntityStore, table: Table, value_field: str, key: str, wanted: str, out: dict[str, Any]
) -> None:
    lookup = next(lk for lk in table.lookups if lk.value_field == value_field)

    def want(name: str) -> bool:
        return wants(wanted, name)

    target_set, target_row = None, None
    for nav, entity_set in lookup.targets.items():
        row = None if entity_set in UNSTORED_TARGETS else store.get(f"dv/{entity_set}", key)
        if row is not None or len(lookup.targets) == 1:
            target_set, target_row = entity_set, row
            navigation = nav
            break
    if target_set is None:
        return
    if want("OData.Community.Display.V1.FormattedValue") and target_row is not None:
        label = target_row.get("name") or target_row.get("fullname")
        if label is not None:
            out[f"{value_field}@OData.Community.Display.V1.FormattedValue"] = label
    if want("Microsoft.Dynamics.CRM.associatednavigationproperty"):
        out[f"{value_field}@Microsoft.Dynamics.CRM.associatednavigationproperty"] = navigation
    if want("Microsoft.Dynamics.CRM.lookuplogicalname"):
        out[f"{value_field}@Microsoft.Dynamics.CRM.lookuplogicalname"] = LOGICAL_NAMES[target_set]


def count_annotations(annotations: str | None, matched: int | None) -> dict[str, Any]:
    """``@Microsoft.Dynamics.CRM.totalrecordcount`` and ``…limitexceeded`` when the Prefer header asks for them.

    The count stops at 5,000 ("Count rows using OData"); without ``$count=true`` it is -1.
    """
    out: dict[str, Any] = {}
    if annotations and wants(annotations, "Microsoft.Dynamics.CRM.totalrecordcount"):
        out["@Microsoft.Dynamics.CRM.totalrecordcount"] = -1 if matched is None else min(matched, COUNT_LIMIT)
    if annotations and wants(annotations, "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"):
        out["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = matched is not None and matched > COUNT_LIMIT
    return out
