"""Alternate keys: a record named by the values of its table's alternate key, ``accounts(accountnumber='A-1')``.

Each writable table defines one alternate key, as a customized organization does (account
``accountnumber``, contact ``new_externalid``). A key segment names either the primary key or
every column of that key; anything else gets the service's "key in the request URI is not valid".
The key's values are unique among the rows where they are all set (the service's unique index
leaves out rows with an empty key column). The table definitions announce the key (``Keys`` and the
``OData.Community.Keys.V1.AlternateKeys`` annotation of ``$metadata``). See docs/sandbox-fidelity.md,
"Alternate keys and upsert".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .dataverse_errors import E_NOT_FOUND, bad_request, normalize_guid
from .dataverse_tables import Table
from .http import ApiError
from .settings import SANDBOX_NAMESPACE
from .store import EntityStore

E_DUPLICATE_KEY = "0x80060892"
#: ``name=value`` pairs of a key segment; a string literal doubles its quotes.
_PAIR_RE = re.compile(r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>'(?:[^']|'')*'|[^,']+?)\s*(?:,|$)")


def alternate_key_error(table: Table) -> ApiError:
    """The service's 400 for a key that is neither the primary key nor the table's alternate key."""
    return bad_request(
        f"The key in the request URI is not valid for resource '{table.type_name}'. Ensure that the names and "
        f"number of key properties match the declared or alternate key properties for the resource '{table.type_name}'."
    )


def parse_key(table: Table, text: str) -> str | dict[str, Any]:
    """A key segment's inside: the primary key (a GUID), or the values of the table's alternate key."""
    if "=" not in text:
        return _guid(table, text)
    pairs: dict[str, Any] = {}
    position = 0
    while position < len(text):
        match = _PAIR_RE.match(text, position)
        if match is None or match.end() == position:
            raise alternate_key_error(table)
        pairs[match.group("name")] = _literal(match.group("value"))
        position = match.end()
    if list(pairs) == [table.primary_key]:
        return _guid(table, str(pairs[table.primary_key]))
    if table.alternate_key is None or set(pairs) != set(table.alternate_key[1]):
        raise alternate_key_error(table)
    return pairs


def _guid(table: Table, raw: str) -> str:
    key = normalize_guid(raw)
    if key is None:
        raise bad_request(f"The key value '{raw}' is not a valid GUID for {table.primary_key}.")
    return key


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    try:
        return int(text)
    except ValueError:
        return text


def find(store: EntityStore, table: Table, values: Mapping[str, Any]) -> str | None:
    """The primary key of the row whose alternate key holds ``values``, or None."""
    for row in store.rows(table.store_set):
        if all(row.get(name) == value for name, value in values.items()):
            return str(row[table.primary_key])
    return None


def missing(table: Table) -> ApiError:
    """The service's 404 for a key segment whose values name no record."""
    return ApiError(
        404, E_NOT_FOUND, f"A record with the specified key values does not exist in {table.logical_name} entity"
    )


def check_unique(store: EntityStore, table: Table, key: str, row: Mapping[str, Any]) -> None:
    """Refuse a write that gives a second row the alternate key values of another (412)."""
    if table.alternate_key is None:
        return
    schema_name, columns = table.alternate_key
    values = {name: row.get(name) for name in columns}
    if any(value is None for value in values.values()):
        return
    holder = find(store, table, values)
    if holder is not None and holder != key:
        raise ApiError(
            412,
            E_DUPLICATE_KEY,
            f"A record that has the attribute values {', '.join(columns)} already exists. The entity key "
            f"{schema_name} requires that this set of attributes contains unique values. Select unique values "
            "and try again.",
        )


def key_definitions(table: Table, label: Any) -> list[dict[str, Any]]:
    """``EntityKeyMetadata`` of the table's keys (``label(text, *id_parts)`` makes a display name)."""
    if table.alternate_key is None:
        return []
    schema_name, columns = table.alternate_key
    metadata_id = str(uuid.uuid5(SANDBOX_NAMESPACE, f"dataverse:metadata:{table.logical_name}:key:{schema_name}"))
    managed = {"Value": True, "CanBeChanged": True, "ManagedPropertyLogicalName": "iscustomizable"}
    return [
        {
            "MetadataId": metadata_id,
            "HasChanged": None,
            "LogicalName": schema_name.lower(),
            "SchemaName": schema_name,
            "EntityLogicalName": table.logical_name,
            "KeyAttributes": list(columns),
            "DisplayName": label(" ".join(columns), table.logical_name, "key", schema_name),
            "EntityKeyIndexStatus": "Active",
            "IsManaged": False,
            "IsCustomizable": managed,
            "IsSecondaryKey": False,
            "IsExportKey": False,
            "IsSynchronous": True,
            "IntroducedVersion": "1.0",
            "AsyncJob": None,
        }
    ]
