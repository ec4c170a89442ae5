"""How records are named in messages: "customer 10000 Adatum Corporation", "account Adatum"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.transformations import join_person_name

Record = Mapping[str, Any]

BUSINESS_CENTRAL = "Business Central"
DATAVERSE = "Dataverse"


def _singular(entity_set: str) -> str:
    return entity_set[:-1] if entity_set.endswith("s") else entity_set


def bc_noun(mapping: TableMapping) -> str:
    """The BC record kind in lower case: "customer", "contact"."""
    return _singular(mapping.bc_entity)


def dataverse_noun(mapping: TableMapping) -> str:
    """The Dataverse record kind in lower case: "account", "contact"."""
    return _singular(mapping.dataverse_table)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def describe_bc(mapping: TableMapping, record: Record) -> str:
    """'customer 10000 Adatum Corporation': kind, number and name of a BC record."""
    parts = [bc_noun(mapping), _text(record.get("number")), _text(record.get("displayName"))]
    if not parts[1] and not parts[2]:
        parts.append(_text(record.get("id")))
    return " ".join(p for p in parts if p)


def dataverse_name(mapping: TableMapping, record: Record) -> str:
    """The display name of a Dataverse record (a contact's name parts when fullname is absent)."""
    name = _text(record.get(mapping.dataverse_name_field))
    if not name and mapping.dataverse_table == "contacts":
        name = join_person_name(record)
    return name


def describe_dataverse(mapping: TableMapping, record: Record) -> str:
    """'account Adatum Corporation': kind and name (or key) of a Dataverse record."""
    name = dataverse_name(mapping, record) or _text(record.get(mapping.dataverse_key))
    return " ".join(p for p in (dataverse_noun(mapping), name) if p)


def describe(mapping: TableMapping, bc_record: Record | None, dataverse_record: Record | None = None) -> str:
    """A coupled pair named from the BC side when it exists, else from the Dataverse side."""
    if bc_record:
        return describe_bc(mapping, bc_record)
    if dataverse_record:
        return describe_dataverse(mapping, dataverse_record)
    return f"{bc_noun(mapping)} (unknown)"


def sentence(text: str) -> str:
    """``text`` with its first letter upper-cased, to start a sentence with a description."""
    return text[:1].upper() + text[1:]


def side_name(direction: SyncDirection, *, destination: bool = True) -> str:
    """The service a direction writes to (``destination``) or reads from."""
    to_dataverse = direction is SyncDirection.TO_DATAVERSE
    return DATAVERSE if to_dataverse == destination else BUSINESS_CENTRAL


def join_labels(labels: tuple[str, ...] | list[str]) -> str:
    """'Phone No.', 'Phone No. and City', 'Name, Phone No. and City'."""
    items = list(labels)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
