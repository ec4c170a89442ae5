"""Writing Dataverse records: create (POST), upsert (PATCH), delete, and removing a lookup
(``DELETE <set>(<id>)/<navigation>/$ref``), with the service's validation and refusals."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .dataverse_errors import (
    E_BAD_REQUEST,
    E_MAX_LENGTH,
    bad_request,
    conditional,
    duplicate,
    etag,
    etag_matches,
    normalize_guid,
    not_found,
    parse_prefer,
    version_mismatch,
)
from .dataverse_keys import check_unique, find, missing, parse_key
from .dataverse_reads import DataverseReads
from .dataverse_rows import STORED_NAME
from .dataverse_tables import (
    CONTACTS,
    DATETIME,
    DECIMAL,
    INT,
    LOGICAL_NAMES,
    STRING,
    TABLES,
    UNSTORED_TARGETS,
    Table,
    contact_fullname,
)
from .http import ApiError, ApiRequest, ApiResponse
from .store import DuplicateKey

#: An entity reference: ``accounts(<key>)`` at the end of a path or URL.
REFERENCE_RE = re.compile(r"(?P<set>[A-Za-z_][A-Za-z0-9_]*)\((?P<key>[^()]*)\)\s*$")


class DataverseWrites:
    """POST, PATCH and DELETE on the served tables (the caller holds the store transaction)."""

    def __init__(self, reads: DataverseReads, owner_id: Callable[[], str]) -> None:
        self.reads = reads
        self.store = reads.store
        #: The systemuser a created record belongs to (the caller).
        self.owner_id = owner_id

    @staticmethod
    def require_writable(table: Table, method: str) -> None:
        """Refuse writes to a table the sandbox serves read-only."""
        if not table.writable:
            raise ApiError(
                405, E_BAD_REQUEST, f"The sandbox serves '{table.entity_set}' read-only; {method} is not allowed."
            )

    @staticmethod
    def payload(request: ApiRequest) -> dict[str, Any]:
        """The request body as a JSON object; 400 otherwise."""
        payload = request.json()
        if not isinstance(payload, dict):
            raise bad_request("The request body must be a JSON object with the record's properties.")
        return payload

    def changes(self, table: Table, payload: Mapping[str, Any], key: str) -> dict[str, Any]:
        """Validate a create/update body and turn it into stored fields (binds -> lookups)."""
        changes: dict[str, Any] = {}
        value_fields = {lk.value_field for lk in table.lookups}
        for name, value in payload.items():
            if name.endswith("@odata.bind"):
                navigation = name[: -len("@odata.bind")]
                field, target = self._bind(table, navigation, value)
                changes[field] = target
            elif name.startswith("@") or "@" in name:
                continue  # instance and property annotations (@odata.type…) carry no data
            elif name == table.primary_key:
                if normalize_guid(str(value)) != key:
                    raise bad_request(
                        f"The {table.primary_key} '{value}' in the body does not match the key {key} in the URL."
                    )
            elif name in table.columns:
                changes[name] = self._checked(table, name, value)
            elif name in table.computed or name in STORED_NAME:
                continue  # computed by the service: the real one ignores such values too
            elif name in value_fields:
                raise bad_request(
                    "CRM do not support direct update of Entity Reference properties, Use "
                    "Navigation properties instead."
                )
            elif table.navigation(name) is not None:
                raise bad_request(
                    f"Deep insert through '{name}' is not supported by the sandbox; bind with {name}@odata.bind."
                )
            else:
                raise bad_request(
                    f"The property '{name}' does not exist on type '{table.type_name}'. "
                    "Make sure to only use property names that are defined by the type."
                )
        return changes

    @staticmethod
    def _checked(table: Table, name: str, value: Any) -> Any:
        kind = table.columns[name]
        if value is None:
            return None
        if kind == STRING:
            if not isinstance(value, str):
                raise bad_request(
                    f"Cannot convert a primitive value to the expected type '{STRING}'. See "
                    "the inner exception for more details."
                )
            limit = table.max_lengths.get(name)
            if limit is not None and len(value) > limit:
                raise bad_request(
                    f"A validation error occurred. The length of the '{name}' attribute of the "
                    f"'{table.logical_name}' entity exceeded the maximum allowed length of '{limit}'.",
                    E_MAX_LENGTH,
                )
            return value
        if kind == DECIMAL and isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if kind == INT and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == DATETIME and isinstance(value, str):
            return value
        raise bad_request(f"Cannot convert the literal '{value}' to the expected type '{kind}'.")

    def _bind(self, table: Table, navigation: str, value: Any) -> tuple[str, str | None]:
        """Resolve ``navigation@odata.bind``: (lookup field, target key or None to clear)."""
        found = table.navigation(navigation)
        if found is None:
            raise bad_request(
                f"An undeclared property '{navigation}' which only has property annotations in the payload but no "
                "property value was found in the payload. In OData, only declared navigation properties and "
                "declared named streams can be represented as properties without values."
            )
        lookup, target_set = found
        if value is None:
            return lookup.value_field, None
        match = REFERENCE_RE.search(urlsplit(str(value)).path or str(value)) if isinstance(value, str) else None
        if match is None:
            raise bad_request(
                f"The value '{value}' of {navigation}@odata.bind is not an entity reference "
                f"such as /{target_set}(<id>)."
            )
        if match.group("set") != target_set:
            raise bad_request(
                f"The navigation property '{navigation}' points at '{target_set}', not '{match.group('set')}'."
            )
        target_table = TABLES.get(target_set)
        if target_table is not None and target_table.alternate_key is not None:
            named = parse_key(target_table, match.group("key"))
            if isinstance(named, dict):  # bound by the target's alternate key
                found_key = find(self.store, target_table, named)
                if found_key is None:
                    raise missing(target_table)
                return lookup.value_field, found_key
        raw_key = match.group("key").partition("=")[2] or match.group("key")
        target_key = normalize_guid(raw_key)
        if target_key is None:
            raise bad_request(f"The key '{raw_key}' in {navigation}@odata.bind is not a valid GUID.")
        if target_set not in UNSTORED_TARGETS and self.store.get(f"dv/{target_set}", target_key) is None:
            raise not_found(LOGICAL_NAMES.get(target_set, target_set), target_key)
        return lookup.value_field, target_key

    def new_row(self, table: Table, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """A record as the service creates it from validated ``changes``."""
        # What the service fills in on create: active state, and the caller as owner.
        row: dict[str, Any] = {table.primary_key: key, "statecode": 0, "statuscode": 1}
        row["_ownerid_value"] = self.owner_id()
        row.update(changes)
        if table is CONTACTS:
            row["fullname"] = contact_fullname(row)
        return row

    def write_response(self, table: Table, row: Mapping[str, Any], request: ApiRequest, created: bool) -> ApiResponse:
        """204 with ``OData-EntityId``, or the record with ``Prefer: return=representation``."""
        entity_id = f"{request.base_url}{table.entity_set}({row[table.primary_key]})"
        headers = {"odata-entityid": entity_id, "etag": etag(row)}
        prefer = parse_prefer(request.headers.get("prefer", ""))
        if prefer.get("return") != "representation":
            return ApiResponse.empty(204, headers)
        query = self.reads.parse_query(table, request.query)
        body = {
            "@odata.context": self.reads.context(request, table, query.select, "/$entity"),
            **self.reads.present(table, row, query.select, prefer.get("odata.include-annotations")),
        }
        annotations = prefer.get("odata.include-annotations")
        headers["preference-applied"] = "return=representation" + (
            f',odata.include-annotations="{annotations}"' if annotations is not None else ""
        )
        return ApiResponse.of_json(201 if created else 200, body, headers)

    def insert(self, table: Table, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Store a new record; 412 when its key is taken."""
        if self.store.get(table.store_set, key) is not None:
            raise duplicate()
        check_unique(self.store, table, key, changes)
        try:
            return self.store.insert(table.store_set, key, self.new_row(table, key, changes))
        except DuplicateKey as exc:
            raise duplicate() from exc

    def create(self, table: Table, request: ApiRequest) -> ApiResponse:
        """``POST <set>``: a new record, with the client's id when it supplies one."""
        self.require_writable(table, "POST")
        payload = self.payload(request)
        supplied = payload.get(table.primary_key)
        if supplied is not None:
            key = normalize_guid(str(supplied))
            if key is None:
                raise bad_request(f"The value '{supplied}' of {table.primary_key} is not a valid GUID.")
        else:
            key = str(uuid.uuid4())
        changes = self.changes(table, payload, key)
        stored = self.insert(table, key, changes)
        return self.write_response(table, stored, request, created=True)

    def upsert(
        self, table: Table, key: str, request: ApiRequest, key_values: Mapping[str, Any] | None = None
    ) -> ApiResponse:
        """``PATCH <set>(<id>)``: update, or create when missing (If-Match / If-None-Match: * narrow it).

        ``key_values`` are the alternate key's values when the URL named the record by them: a
        created record gets them."""
        self.require_writable(table, "PATCH")
        payload = self.payload(request)
        if_match = conditional(request.headers, "if-match")
        if_none_match = conditional(request.headers, "if-none-match")
        changes = self.changes(table, payload, key)
        existing = self.store.get(table.store_set, key)
        if existing is None:
            if if_match is not None:  # If-Match (any value) means "update only"
                raise not_found(table.logical_name, key) if key_values is None else missing(table)
            stored = self.insert(table, key, {**changes, **(key_values or {})})
            return self.write_response(table, stored, request, created=True)
        if if_none_match == "*":  # "create only"
            raise duplicate()
        if if_match is not None and not etag_matches(if_match, existing):
            raise version_mismatch()
        check_unique(self.store, table, key, {**existing, **changes})
        if table is CONTACTS:
            changes["fullname"] = contact_fullname({**existing, **changes})
        stored = self.store.update(table.store_set, key, changes)
        return self.write_response(table, stored, request, created=False)

    def delete(self, table: Table, key: str, request: ApiRequest) -> ApiResponse:
        """``DELETE <set>(<id>)``, honouring ``If-Match``."""
        self.require_writable(table, "DELETE")
        existing = self.reads.existing(table, key)
        if_match = conditional(request.headers, "if-match")
        if if_match is not None and not etag_matches(if_match, existing):
            raise version_mismatch()
        self.store.delete(table.store_set, key)
        return ApiResponse.empty(204)

    def remove_reference(self, table: Table, key: str, value_field: str) -> ApiResponse:
        """``DELETE <set>(<id>)/<navigation>/$ref``: clear a lookup."""
        self.require_writable(table, "DELETE")
        self.reads.existing(table, key)
        self.store.update(table.store_set, key, {value_field: None})
        return ApiResponse.empty(204)
