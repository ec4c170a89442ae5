"""Bulk operation messages bound to an entity set: ``POST <set>/Microsoft.Dynamics.CRM.CreateMultiple``,
``UpdateMultiple`` and ``UpsertMultiple`` (``DeleteMultiple`` is for elastic tables only).

Each item of ``Targets`` must name the table's type in ``@odata.type``. On a standard table any
failure rolls the whole message back (the caller holds the store transaction). See
docs/sandbox-fidelity.md, "Bulk operations and upsert".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .dataverse_errors import E_DUPLICATE, E_NOT_FOUND, bad_request, normalize_guid
from .dataverse_keys import alternate_key_error, check_unique, find, parse_key
from .dataverse_tables import CONTACTS, Table, contact_fullname
from .dataverse_writes import REFERENCE_RE as _REFERENCE_RE
from .dataverse_writes import DataverseWrites
from .http import ApiError, ApiRequest, ApiResponse
from .store import DuplicateKey

_NAMESPACE = "Microsoft.Dynamics.CRM."
BULK_ACTIONS = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple", "DeleteMultiple")


def is_bulk_action(segment: str) -> bool:
    """Whether a path segment after an entity set names a bulk operation message."""
    return segment.startswith(_NAMESPACE) and segment[len(_NAMESPACE) :] in BULK_ACTIONS


def run_bulk(writes: DataverseWrites, table: Table, segment: str, request: ApiRequest) -> ApiResponse:
    """Run one bulk operation message on ``table``; raises ApiError (rolling everything back) on any failure."""
    action = segment[len(_NAMESPACE) :]
    if request.method.upper() != "POST":
        raise ApiError(405, "0x80060888", f"{action} is an action; call it with POST.")
    writes.require_writable(table, "POST")
    if action == "DeleteMultiple":
        raise bad_request("DeleteMultiple has not yet been implemented.")
    targets = _targets(table, writes.payload(request))
    if action == "CreateMultiple":
        ids = [_create(writes, table, target) for target in targets]
        context = f"{request.base_url}$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
        return ApiResponse.of_json(200, {"@odata.context": context, "Ids": ids})
    for target in targets:
        if action == "UpdateMultiple":
            _update(writes, table, target)
        else:
            _upsert(writes, table, target)
    return ApiResponse.empty(204)


def _targets(table: Table, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    targets = payload.get("Targets")
    unknown = [name for name in payload if name != "Targets"]
    if unknown:
        raise bad_request(
            f"The parameter '{unknown[0]}' in the request payload is not a valid parameter for the operation."
        )
    if not isinstance(targets, list) or not targets:
        raise bad_request("The Targets parameter must be a non-empty array of records.")
    for index, target in enumerate(targets):
        if not isinstance(target, dict):
            raise bad_request(f"Targets[{index}] is not a record (a JSON object).")
        kind = target.get("@odata.type")
        if kind is None:
            raise bad_request(
                f"Targets[{index}] has no @odata.type annotation; every item of Targets must name its type."
            )
        if kind not in (table.type_name, f"#{table.type_name}"):
            raise bad_request(
                f"Targets[{index}] is of type '{kind}', not '{table.type_name}' of the entity set '{table.entity_set}'."
            )
    return targets


def _key_of(table: Table, target: Mapping[str, Any], index_hint: str) -> str | dict[str, Any] | None:
    """The target's primary key, or its alternate key's values (``"@odata.id": "accounts(accountnumber='A-1')"``)."""
    reference = target.get("@odata.id")
    if reference is not None:
        match = _REFERENCE_RE.search(str(reference))
        if match is None or match.group("set") != table.entity_set:
            raise alternate_key_error(table)
        return parse_key(table, match.group("key"))
    supplied = target.get(table.primary_key)
    if supplied is None:
        return None
    key = normalize_guid(str(supplied))
    if key is None:
        raise bad_request(f"The value '{supplied}' of {table.primary_key} in {index_hint} is not a valid GUID.")
    return key


def _primary_key_of(table: Table, target: Mapping[str, Any]) -> str | None:
    key = _key_of(table, target, "a target")
    if isinstance(key, dict):  # only UpsertMultiple names its targets by an alternate key
        raise alternate_key_error(table)
    return key


def _create(writes: DataverseWrites, table: Table, target: Mapping[str, Any]) -> str:
    key = _primary_key_of(table, target) or str(uuid.uuid4())
    changes = writes.changes(table, target, key)
    if writes.store.get(table.store_set, key) is not None:
        raise ApiError(412, E_DUPLICATE, "Cannot insert duplicate key.")
    check_unique(writes.store, table, key, changes)
    try:
        writes.store.insert(table.store_set, key, writes.new_row(table, key, changes))
    except DuplicateKey as exc:
        raise ApiError(412, E_DUPLICATE, "Cannot insert duplicate key.") from exc
    return key


def _update(writes: DataverseWrites, table: Table, target: Mapping[str, Any]) -> None:
    key = _primary_key_of(table, target)
    if key is None:
        raise bad_request(f"Every item of Targets must hold its {table.primary_key} to be updated.")
    changes = writes.changes(table, target, key)
    existing = writes.store.get(table.store_set, key)
    if existing is None:
        raise ApiError(404, E_NOT_FOUND, f"{table.logical_name} With Ids = {key} Do Not Exist")
    _apply(writes, table, key, existing, changes)


def _upsert(writes: DataverseWrites, table: Table, target: Mapping[str, Any]) -> None:
    named = _key_of(table, target, "a target")
    key_values: dict[str, Any] = {}
    if isinstance(named, dict):
        key_values, named = named, find(writes.store, table, named)
    key = named or str(uuid.uuid4())
    changes = writes.changes(table, {k: v for k, v in target.items() if k != "@odata.id"}, key)
    existing = writes.store.get(table.store_set, key)
    if existing is None:
        changes.update(key_values)
        check_unique(writes.store, table, key, changes)
        writes.store.insert(table.store_set, key, writes.new_row(table, key, changes))
    else:
        _apply(writes, table, key, existing, changes)


def _apply(
    writes: DataverseWrites, table: Table, key: str, existing: Mapping[str, Any], changes: dict[str, Any]
) -> None:
    check_unique(writes.store, table, key, {**existing, **changes})
    if table is CONTACTS:
        changes["fullname"] = contact_fullname({**existing, **changes})
    writes.store.update(table.store_set, key, changes)
