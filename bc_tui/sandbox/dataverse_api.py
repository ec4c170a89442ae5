"""Dataverse Web API v9.2 emulation: ``/api/data/v9.2/…`` over the sandbox store.

Serves ``WhoAmI``, the ``accounts``, ``contacts`` and (read-only) ``systemusers`` entity sets
with create, read, upsert and delete, OData queries with server-driven paging, change
tracking, and multipart ``$batch`` with atomic change sets, answering with the real
service's status codes and error codes (``{"error":{"code":"0x…","message":"…"}}``).

Authentication, latency, service-protection limits, fault injection and ``x-ms-dop-hint``
are the app's business (``app.py``), not this module's.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import threading
import uuid
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, Iterator, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .dataverse_batch import (
    BatchFormatError,
    BatchRequestPart,
    BatchResponseItem,
    BatchResponsePart,
    ChangeSet,
    ChangeSetResponse,
    parse_batch_request,
    render_batch_response,
)
from .dataverse_metadata import DataverseMetadata
from .dataverse_paging import OrderKeys, SkipTokenError, decode_skiptoken, encode_skiptoken
from .dataverse_tables import (
    CONTACTS,
    DATETIME,
    DECIMAL,
    INT,
    LOGICAL_NAMES,
    STRING,
    SYSTEMUSERS,
    TABLES,
    UNSTORED_TARGETS,
    Table,
    contact_fullname,
)
from .http import ApiError, ApiRequest, ApiResponse
from .odata_query import Query, QueryError, key_candidates, parse_query
from .precision import whole_seconds
from .settings import SANDBOX_NAMESPACE, SandboxSettings
from .store import DuplicateKey, EntityStore

log = logging.getLogger(__name__)

#: The most rows one page (or one ``$top``) may hold, and the default page size.
MAX_PAGE_SIZE = 5000
#: How many sorted query results to keep for following pages.
_SORT_CACHE_SIZE = 4
#: The most requests one ``$batch`` may hold.
MAX_BATCH_REQUESTS = 1000

#: Generic "bad request" code the Web API uses for OData-level errors.
E_BAD_REQUEST = "0x80060888"
E_NOT_FOUND = "0x80040217"
E_DUPLICATE = "0x80040237"
E_VERSION_MISMATCH = "0x80060882"
E_MAX_LENGTH = "0x80044331"
E_UNEXPECTED = "0x80040216"

#: API properties that the store keeps under another name.
_STORED_NAME = {"versionnumber": "_version", "modifiedon": "_modified"}
_HIDDEN = frozenset({"_version", "_modified"})
#: How $orderby reads each property the store keeps under another name (modifiedon: whole seconds).
_ORDER_SOURCES: dict[str, Any] = {**_STORED_NAME, "modifiedon": lambda row: whole_seconds(row.get("_modified"))}


def _api_value(row: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A property of a stored row as the API shows it (``modifiedon`` in whole seconds)."""
    if name == "modifiedon":
        return whole_seconds(row.get("_modified", default))
    return row.get(_STORED_NAME.get(name, name), default)

_SEGMENT_RE = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>[^()]*)\))?(?:/(?P<rest>.*))?$")
_REFERENCE_RE = re.compile(r"(?P<set>[A-Za-z_][A-Za-z0-9_]*)\((?P<key>[^()]*)\)\s*$")
_CONTENT_ID_RE = re.compile(r"^\$(?P<id>[A-Za-z0-9_.\-]+)(?P<rest>/.*)?$")


# ============================================================ small helpers


def _bad_request(message: str, code: str = E_BAD_REQUEST) -> ApiError:
    return ApiError(400, code, message)


def _not_found(table_logical_name: str, key: str) -> ApiError:
    return ApiError(404, E_NOT_FOUND, f"{table_logical_name} With Id = {key} Does Not Exist")


def _version_mismatch() -> ApiError:
    return ApiError(
        412, E_VERSION_MISMATCH, "The version of the existing record doesn't match the RowVersion property provided."
    )


def _normalize_guid(text: str) -> str | None:
    """``text`` as a lower-case hyphenated GUID, or None when it is not one."""
    try:
        return str(uuid.UUID(text.strip().strip("{}")))
    except (ValueError, AttributeError):
        return None


def parse_prefer(header: str) -> dict[str, str]:
    """The ``Prefer`` header's preferences, by lower-case name (value ``""`` when bare).

    Commas inside double quotes belong to the value (``odata.include-annotations="a,b"``).
    """
    prefs: dict[str, str] = {}
    for item in re.findall(r'(?:[^,"]|"[^"]*")+', header or ""):
        name, _, value = item.strip().partition("=")
        if name.strip():
            prefs[name.strip().lower()] = value.strip().strip('"')
    return prefs


def _etag(row: Mapping[str, Any]) -> str:
    return f'W/"{row["_version"]}"'


def _etag_matches(header: str, row: Mapping[str, Any]) -> bool:
    """Whether an ``If-Match``/``If-None-Match`` list names the row's current version."""
    current = str(row["_version"])
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == current:
            return True
    return False


def _conditional(headers: Mapping[str, str], name: str) -> str | None:
    # Microsoft's samples send ``If-None-Match: null`` on every request: it means "none".
    value = headers.get(name)
    if value is None or value.strip().lower() in ("", "null"):
        return None
    return value.strip()


class _RowView(Mapping[str, Any]):
    """A stored row as the API names its properties, for ``$filter`` predicates."""

    __slots__ = ("row",)

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name in _HIDDEN:
            return default
        return _api_value(self.row, name, default)

    def __getitem__(self, name: str) -> Any:
        if name in _HIDDEN:
            raise KeyError(name)
        if name == "modifiedon":
            return whole_seconds(self.row["_modified"])
        return self.row[_STORED_NAME.get(name, name)]

    def __iter__(self) -> Iterator[str]:
        for name in self.row:
            if name not in _HIDDEN:
                yield name
        yield from _STORED_NAME

    def __len__(self) -> int:
        return len(self.row)


@dataclass
class _Ordered:
    """The rows matching a query in page order, with their sort keys (same positions)."""

    order_keys: OrderKeys
    keys: list[Any]
    rows: list[dict[str, Any]]


class _ChangeSetFailed(Exception):
    """Raised inside a change set's transaction to roll it back."""

    def __init__(self, response: BatchResponsePart) -> None:
        super().__init__(response.status)
        self.response = response


# ============================================================ the API


class DataverseApi:
    """``/api/data/v9.2/…`` — dispatch() never raises; errors become OData error responses."""

    def __init__(self, store: EntityStore, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings
        org = settings.organization
        self.organization_id = str(uuid.uuid5(SANDBOX_NAMESPACE, f"dataverse:organization:{org}"))
        self.business_unit_id = str(uuid.uuid5(SANDBOX_NAMESPACE, f"dataverse:businessunit:{org}"))
        self._sorted_cache: dict[tuple[Any, ...], tuple[int, _Ordered]] = {}
        self._cache_lock = threading.Lock()

    # ---------------------------------------------------------------- entry point

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Answer one request; never raises (errors are OData error responses)."""
        try:
            response = self._route(request)
        except ApiError as exc:
            response = exc.to_response()
        except Exception:  # noqa: BLE001 - the wire must get an answer, and the log the cause
            log.exception("Dataverse emulation failed on %s %s", request.method, request.path)
            response = ApiError(500, E_UNEXPECTED, "An unexpected error occurred.").to_response()
        response.headers.setdefault("odata-version", "4.0")
        return response

    def _route(self, request: ApiRequest) -> ApiResponse:
        path = unquote(request.path).strip("/")
        method = request.method.upper()
        if path == "$batch":
            if method != "POST":
                raise ApiError(405, E_BAD_REQUEST, "The $batch endpoint only accepts POST.")
            return self._batch(request)
        if path in ("WhoAmI", "WhoAmI()"):
            if method != "GET":
                raise ApiError(405, E_BAD_REQUEST, "WhoAmI is a function; call it with GET.")
            return self._who_am_i(request)
        if DataverseMetadata.handles(path):
            return DataverseMetadata().answer(request, path)
        if path == "":
            return self._service_document(request)
        match = _SEGMENT_RE.match(path)
        table = TABLES.get(match.group("set")) if match else None
        if match is None or table is None:
            segment = path.split("/", 1)[0].split("(", 1)[0]
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{segment}'.")
        if method == "GET":
            return self._entity(table, match.group("key"), match.group("rest"), request)
        # A write checks and changes in one transaction, so concurrent requests can't interleave.
        with self.store.atomic():
            return self._entity(table, match.group("key"), match.group("rest"), request)

    def _entity(self, table: Table, key_text: str | None, rest: str | None, request: ApiRequest) -> ApiResponse:
        method = request.method.upper()
        if key_text is None:
            if rest == "$count" and method == "GET":
                return self._count(table)
            if rest is not None:
                raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{rest}'.")
            if method == "GET":
                return self._list(table, request)
            if method == "POST":
                return self._create(table, request)
            raise ApiError(405, E_BAD_REQUEST, f"The method {method} is not allowed on the '{table.entity_set}' collection.")
        key = self._parse_key(table, key_text)
        if rest:
            return self._property(table, key, rest, request)
        if method == "GET":
            return self._retrieve(table, key, request)
        if method == "PATCH":
            return self._upsert(table, key, request)
        if method == "DELETE":
            return self._delete(table, key, request)
        raise ApiError(405, E_BAD_REQUEST, f"The method {method} is not allowed on a single {table.logical_name}.")

    @staticmethod
    def _parse_key(table: Table, text: str) -> str:
        name, sep, value = text.partition("=")
        if sep and name.strip() != table.primary_key:
            raise _bad_request(f"'{name.strip()}' is not a key of {table.logical_name}; use {table.primary_key}.")
        raw = value if sep else text
        key = _normalize_guid(raw)
        if key is None:
            raise _bad_request(f"The key value '{raw}' is not a valid GUID for {table.primary_key}.")
        return key

    # ---------------------------------------------------------------- identity

    def application_user_id(self) -> str:
        """The systemuser the caller is: the one named after the client id, else the first."""
        users = list(self.store.rows(SYSTEMUSERS.store_set))
        prefix = f"{self.settings.client_id}@".lower()
        for user in users:
            if str(user.get("domainname") or "").lower().startswith(prefix):
                return str(user["systemuserid"])
        if users:
            return str(users[0]["systemuserid"])
        return str(uuid.uuid5(SANDBOX_NAMESPACE, "systemuser:0"))

    def _who_am_i(self, request: ApiRequest) -> ApiResponse:
        return ApiResponse.of_json(
            200,
            {
                "@odata.context": f"{request.base_url}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": self.business_unit_id,
                "UserId": self.application_user_id(),
                "OrganizationId": self.organization_id,
            },
        )

    def _service_document(self, request: ApiRequest) -> ApiResponse:
        sets = [{"name": name, "kind": "EntitySet", "url": name} for name in TABLES]
        return ApiResponse.of_json(200, {"@odata.context": f"{request.base_url}$metadata", "value": sets})

    # ---------------------------------------------------------------- reading

    def _present(self, table: Table, row: Mapping[str, Any], select: tuple[str, ...] | None, annotations: str | None) -> dict[str, Any]:
        """A stored row as the API shows it: ETag, every column (null when empty), no system fields."""
        out: dict[str, Any] = {"@odata.etag": _etag(row)}
        names = table.properties if select is None else (table.primary_key, *select)
        for name in names:
            if name in out:
                continue
            value = _api_value(row, name)
            out[name] = value
            if annotations and value is not None and name.startswith("_") and name.endswith("_value"):
                self._annotate_lookup(table, name, str(value), annotations, out)
        return out

    def _annotate_lookup(self, table: Table, value_field: str, key: str, wanted: str, out: dict[str, Any]) -> None:
        lookup = next(lk for lk in table.lookups if lk.value_field == value_field)
        patterns = [p.strip() for p in wanted.split(",") if p.strip()]

        def want(name: str) -> bool:
            return any(fnmatch.fnmatchcase(name, p) for p in patterns)

        target_set, target_row = None, None
        for nav, entity_set in lookup.targets.items():
            row = None if entity_set in UNSTORED_TARGETS else self.store.get(f"dv/{entity_set}", key)
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

    def _parse_query(self, table: Table, params: Mapping[str, str]) -> Query:
        try:
            query = parse_query(params, allow_skip=False)
        except QueryError as exc:
            raise _bad_request(str(exc)) from exc
        readable = table.properties
        for name in (query.select or ()):
            if name not in readable:
                raise _bad_request(f"Could not find a property named '{name}' on type '{table.type_name}'.")
        for name, _ in query.orderby:
            if name not in readable:
                raise _bad_request(f"Could not find a property named '{name}' on type '{table.type_name}'.")
        return query

    def _context(self, request: ApiRequest, table: Table, select: tuple[str, ...] | None, suffix: str = "") -> str:
        shape = f"({','.join(select)})" if select else ""
        return f"{request.base_url}$metadata#{table.entity_set}{shape}{suffix}"

    def _count(self, table: Table) -> ApiResponse:
        # Like the real service, a count stops at the page-size limit.
        count = min(self.store.count(table.store_set), MAX_PAGE_SIZE)
        return ApiResponse(200, str(count).encode(), {"content-type": "text/plain"})

    def _list(self, table: Table, request: ApiRequest) -> ApiResponse:
        params = dict(request.query)
        delta_token = params.get("$deltatoken")
        query = self._parse_query(table, {k: v for k, v in params.items() if k != "$deltatoken"})
        prefer = parse_prefer(request.headers.get("prefer", ""))
        annotations = prefer.get("odata.include-annotations")
        applied: list[str] = []
        page_size = MAX_PAGE_SIZE
        if "odata.maxpagesize" in prefer:
            text = prefer["odata.maxpagesize"]
            if not text.isdigit() or int(text) < 1:
                raise _bad_request(f"The odata.maxpagesize preference '{text}' is not a positive integer.")
            page_size = min(int(text), MAX_PAGE_SIZE)
            if "$top" not in params:  # $top returns one page of that size: no paging to apply
                applied.append(f"odata.maxpagesize={page_size}")
        if annotations is not None:
            applied.append(f'odata.include-annotations="{annotations}"')
        tracking = "odata.track-changes" in prefer or delta_token is not None
        if tracking and (query.orderby or query.filter is not None or query.top is not None):
            raise _bad_request("Change tracking does not support $filter, $orderby or $top.")

        # The order always ends with the primary key, so it is total and pages are stable.
        order = [k for k in query.orderby if k[0] != table.primary_key]
        pk_order = next((k for k in query.orderby if k[0] == table.primary_key), (table.primary_key, False))
        order.append(pk_order)
        cursor_values: tuple[Any, ...] | None = None
        page_number = 1
        if query.skiptoken:
            try:
                cursor = decode_skiptoken(query.skiptoken, order)
            except SkipTokenError as exc:
                raise _bad_request(f"The $skiptoken is not valid: {exc}.") from exc
            cursor_values, page_number = cursor.values, cursor.page_number + 1

        since = self._delta_version(delta_token) if delta_token is not None else None
        ordered = self._ordered_rows(table, order, params.get("$filter"), query, since, cursor_values)
        start = 0 if cursor_values is None else bisect_right(ordered.keys, ordered.order_keys.of_values(cursor_values))
        limit = page_size if query.top is None else min(query.top, MAX_PAGE_SIZE)
        page = ordered.rows[start : start + limit]
        more = start + limit < len(ordered.rows) and query.top is None
        value: list[dict[str, Any]] = [self._present(table, row, query.select, annotations) for row in page]
        body: dict[str, Any] = {"@odata.context": self._context(request, table, query.select)}
        if query.count:
            body["@odata.count"] = min(len(ordered.rows), MAX_PAGE_SIZE)
        if more:
            last_values = [_api_value(page[-1], name) for name, _ in order]
            token = encode_skiptoken(order, last_values, str(page[0][table.primary_key]), page_number)
            body["@odata.nextLink"] = self._link(request, table, params, "$skiptoken", token)
        elif tracking:
            value.extend(self._deleted_entities(request, table, since or 0))
            token = f"{self.store.version}!{_now_text()}"
            delta_params = {k: v for k, v in params.items() if k == "$select"}
            body["@odata.deltaLink"] = self._link(request, table, delta_params, "$deltatoken", token)
        if tracking:
            applied.append("odata.track-changes")
        body["value"] = value
        headers = {"preference-applied": ",".join(applied)} if applied else {}
        return ApiResponse.of_json(200, body, headers)

    def _ordered_rows(
        self,
        table: Table,
        order: list[tuple[str, bool]],
        filter_text: str | None,
        query: Query,
        since: int | None,
        cursor_values: tuple[Any, ...] | None,
    ) -> _Ordered:
        """The rows matching the query, sorted, reusing the last sort while nothing changed.

        Following ``@odata.nextLink`` over a large table asks for the same sort again and
        again; while the store's version is unchanged the result is the same, so each next
        page costs a binary search instead of a filter and a sort over the whole table.
        """
        cache_key = (table.store_set, tuple(order), filter_text, since)
        version = self.store.version
        with self._cache_lock:
            hit = self._sorted_cache.get(cache_key)
        if hit is not None and hit[0] == version:
            try:
                if cursor_values is not None:
                    hit[1].order_keys.of_values(cursor_values)
                return hit[1]
            except KeyError:
                pass  # a cursor from older data whose value this sort has never seen
        predicate = query.filter
        keys = key_candidates(predicate, table.primary_key)
        # A list of ids (how clients fetch records by id) is answered by key, not by a scan.
        candidates = (
            [row for key in keys if (row := self.store.get(table.store_set, key)) is not None]
            if keys is not None
            else self.store.rows(table.store_set)
        )
        matched = [
            row
            for row in candidates
            if (predicate is None or predicate(_RowView(row))) and (since is None or row["_version"] > since)
        ]
        order_keys = OrderKeys(order, _ORDER_SOURCES, matched, cursor_values)
        keyed = sorted(((order_keys.of_row(row), row) for row in matched), key=itemgetter(0))
        ordered = _Ordered(order_keys, [k for k, _ in keyed], [row for _, row in keyed])
        with self._cache_lock:
            self._sorted_cache[cache_key] = (version, ordered)
            while len(self._sorted_cache) > _SORT_CACHE_SIZE:
                self._sorted_cache.pop(next(iter(self._sorted_cache)))
        return ordered

    @staticmethod
    def _link(request: ApiRequest, table: Table, params: Mapping[str, str], name: str, token: str) -> str:
        # A next page keeps every option (a delta read's $deltatoken too); a new token replaces its old one.
        options = [(k, v) for k, v in params.items() if k != name]
        options.append((name, token))
        query = "&".join(f"{k}={quote(v, safe=chr(36) + '(),*:')}" for k, v in options)
        return f"{request.base_url}{table.entity_set}?{query}"

    @staticmethod
    def _delta_version(token: str) -> int:
        version, _, _ = token.partition("!")
        if not version.isdigit():
            raise _bad_request(f"The $deltatoken '{token}' is not valid.")
        return int(version)

    def _deleted_entities(self, request: ApiRequest, table: Table, since: int) -> list[dict[str, Any]]:
        if since == 0:  # the first, full read has nothing to forget
            return []
        context = f"{request.base_url}$metadata#{table.entity_set}/$deletedEntity"
        return [
            {"@odata.context": context, "id": key, "reason": "deleted"}
            for key, _version, _modified in self.store.deletions(table.store_set, since)
        ]

    def _existing(self, table: Table, key: str) -> dict[str, Any]:
        row = self.store.get(table.store_set, key)
        if row is None:
            raise _not_found(table.logical_name, key)
        return row

    def _retrieve(self, table: Table, key: str, request: ApiRequest) -> ApiResponse:
        query = self._parse_query(table, request.query)
        row = self._existing(table, key)
        none_match = _conditional(request.headers, "if-none-match")
        if none_match is not None and _etag_matches(none_match, row):
            return ApiResponse.empty(304, {"etag": _etag(row)})
        annotations = parse_prefer(request.headers.get("prefer", "")).get("odata.include-annotations")
        body = {
            "@odata.context": self._context(request, table, query.select, "/$entity"),
            **self._present(table, row, query.select, annotations),
        }
        return ApiResponse.of_json(200, body, {"etag": _etag(row)})

    def _property(self, table: Table, key: str, rest: str, request: ApiRequest) -> ApiResponse:
        """``accounts(id)/name`` (read one property) and ``…/nav/$ref`` (remove a lookup)."""
        method = request.method.upper()
        name, _, ref = rest.partition("/")
        found = table.navigation(name)
        if found is not None and ref == "$ref" and method == "DELETE":
            self._require_writable(table, method)
            lookup, _ = found
            self._existing(table, key)
            self.store.update(table.store_set, key, {lookup.value_field: None})
            return ApiResponse.empty(204)
        readable = table.properties
        if ref or name not in readable:
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{rest}'.")
        if method != "GET":
            raise ApiError(405, E_BAD_REQUEST, f"The method {method} is not allowed on a property.")
        row = self._existing(table, key)
        context = f"{request.base_url}$metadata#{table.entity_set}({key})/{name}"
        return ApiResponse.of_json(200, {"@odata.context": context, "value": _api_value(row, name)})

    # ---------------------------------------------------------------- writing

    @staticmethod
    def _require_writable(table: Table, method: str) -> None:
        if not table.writable:
            raise ApiError(405, E_BAD_REQUEST, f"The sandbox serves '{table.entity_set}' read-only; {method} is not allowed.")

    @staticmethod
    def _payload(request: ApiRequest) -> dict[str, Any]:
        payload = request.json()
        if not isinstance(payload, dict):
            raise _bad_request("The request body must be a JSON object with the record's properties.")
        return payload

    def _changes(self, table: Table, payload: Mapping[str, Any], key: str) -> dict[str, Any]:
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
                if _normalize_guid(str(value)) != key:
                    raise _bad_request(
                        f"The {table.primary_key} '{value}' in the body does not match the key {key} in the URL."
                    )
            elif name in table.columns:
                changes[name] = self._checked(table, name, value)
            elif name in table.computed or name in _STORED_NAME:
                continue  # computed by the service: the real one ignores such values too
            elif name in value_fields:
                raise _bad_request(
                    "CRM do not support direct update of Entity Reference properties, Use Navigation properties instead."
                )
            elif table.navigation(name) is not None:
                raise _bad_request(f"Deep insert through '{name}' is not supported by the sandbox; bind with {name}@odata.bind.")
            else:
                raise _bad_request(
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
                raise _bad_request(f"Cannot convert a primitive value to the expected type '{STRING}'. See the inner exception for more details.")
            limit = table.max_lengths.get(name)
            if limit is not None and len(value) > limit:
                raise _bad_request(
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
        raise _bad_request(f"Cannot convert the literal '{value}' to the expected type '{kind}'.")

    def _bind(self, table: Table, navigation: str, value: Any) -> tuple[str, str | None]:
        """Resolve ``navigation@odata.bind``: (lookup field, target key or None to clear)."""
        found = table.navigation(navigation)
        if found is None:
            raise _bad_request(
                f"An undeclared property '{navigation}' which only has property annotations in the payload but no "
                "property value was found in the payload. In OData, only declared navigation properties and "
                "declared named streams can be represented as properties without values."
            )
        lookup, target_set = found
        if value is None:
            return lookup.value_field, None
        match = _REFERENCE_RE.search(urlsplit(str(value)).path or str(value)) if isinstance(value, str) else None
        if match is None:
            raise _bad_request(f"The value '{value}' of {navigation}@odata.bind is not an entity reference such as /{target_set}(<id>).")
        if match.group("set") != target_set:
            raise _bad_request(
                f"The navigation property '{navigation}' points at '{target_set}', not '{match.group('set')}'."
            )
        raw_key = match.group("key").partition("=")[2] or match.group("key")
        target_key = _normalize_guid(raw_key)
        if target_key is None:
            raise _bad_request(f"The key '{raw_key}' in {navigation}@odata.bind is not a valid GUID.")
        if target_set not in UNSTORED_TARGETS and self.store.get(f"dv/{target_set}", target_key) is None:
            raise _not_found(LOGICAL_NAMES.get(target_set, target_set), target_key)
        return lookup.value_field, target_key

    def _new_row(self, table: Table, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        # What the service fills in on create: active state, and the caller as owner.
        row: dict[str, Any] = {table.primary_key: key, "statecode": 0, "statuscode": 1}
        row["_ownerid_value"] = self.application_user_id()
        row.update(changes)
        if table is CONTACTS:
            row["fullname"] = contact_fullname(row)
        return row

    def _write_response(self, table: Table, row: Mapping[str, Any], request: ApiRequest, created: bool) -> ApiResponse:
        entity_id = f"{request.base_url}{table.entity_set}({row[table.primary_key]})"
        headers = {"odata-entityid": entity_id, "etag": _etag(row)}
        prefer = parse_prefer(request.headers.get("prefer", ""))
        if prefer.get("return") != "representation":
            return ApiResponse.empty(204, headers)
        query = self._parse_query(table, request.query)
        body = {
            "@odata.context": self._context(request, table, query.select, "/$entity"),
            **self._present(table, row, query.select, prefer.get("odata.include-annotations")),
        }
        headers["preference-applied"] = "return=representation"
        return ApiResponse.of_json(201 if created else 200, body, headers)

    def _create(self, table: Table, request: ApiRequest) -> ApiResponse:
        self._require_writable(table, "POST")
        payload = self._payload(request)
        supplied = payload.get(table.primary_key)
        if supplied is not None:
            key = _normalize_guid(str(supplied))
            if key is None:
                raise _bad_request(f"The value '{supplied}' of {table.primary_key} is not a valid GUID.")
        else:
            key = str(uuid.uuid4())
        changes = self._changes(table, payload, key)
        if self.store.get(table.store_set, key) is not None:
            raise self._duplicate()
        try:
            stored = self.store.insert(table.store_set, key, self._new_row(table, key, changes))
        except DuplicateKey as exc:
            raise self._duplicate() from exc
        return self._write_response(table, stored, request, created=True)

    @staticmethod
    def _duplicate() -> ApiError:
        return ApiError(412, E_DUPLICATE, "A record with matching key values already exists.")

    def _upsert(self, table: Table, key: str, request: ApiRequest) -> ApiResponse:
        self._require_writable(table, "PATCH")
        payload = self._payload(request)
        if_match = _conditional(request.headers, "if-match")
        if_none_match = _conditional(request.headers, "if-none-match")
        changes = self._changes(table, payload, key)
        existing = self.store.get(table.store_set, key)
        if existing is None:
            if if_match is not None:  # If-Match (any value) means "update only"
                raise _not_found(table.logical_name, key)
            try:
                stored = self.store.insert(table.store_set, key, self._new_row(table, key, changes))
            except DuplicateKey as exc:
                raise self._duplicate() from exc
            return self._write_response(table, stored, request, created=True)
        if if_none_match == "*":  # "create only"
            raise self._duplicate()
        if if_match is not None and not _etag_matches(if_match, existing):
            raise _version_mismatch()
        if table is CONTACTS:
            changes["fullname"] = contact_fullname({**existing, **changes})
        stored = self.store.update(table.store_set, key, changes)
        return self._write_response(table, stored, request, created=False)

    def _delete(self, table: Table, key: str, request: ApiRequest) -> ApiResponse:
        self._require_writable(table, "DELETE")
        existing = self._existing(table, key)
        if_match = _conditional(request.headers, "if-match")
        if if_match is not None and not _etag_matches(if_match, existing):
            raise _version_mismatch()
        self.store.delete(table.store_set, key)
        return ApiResponse.empty(204)

    # ---------------------------------------------------------------- $batch

    def _batch(self, request: ApiRequest) -> ApiResponse:
        try:
            items = parse_batch_request(request.body, request.headers.get("content-type", ""))
        except BatchFormatError as exc:
            raise _bad_request(str(exc)) from exc
        total = sum(len(item.requests) if isinstance(item, ChangeSet) else 1 for item in items)
        if total > MAX_BATCH_REQUESTS:
            raise _bad_request(
                f"The batch holds {total} requests; a batch may hold at most {MAX_BATCH_REQUESTS}."
            )
        for item in items:
            if isinstance(item, ChangeSet) and any(part.method == "GET" for part in item.requests):
                raise _bad_request("A change set may not contain a GET request; put GET requests outside change sets.")
        continue_on_error = "odata.continue-on-error" in parse_prefer(request.headers.get("prefer", ""))
        answers: list[BatchResponseItem] = []
        for item in items:
            if isinstance(item, ChangeSet):
                answer, failed = self._run_change_set(item, request)
            else:
                answer = self._run_part(item, request, {})
                failed = answer.status >= 400
            answers.append(answer)
            if failed and not continue_on_error:
                break  # the rest is neither executed nor answered
        content_type, body = render_batch_response(answers)
        headers = {"content-type": content_type}
        if continue_on_error:
            headers["preference-applied"] = "odata.continue-on-error"
        return ApiResponse(200, body, headers)

    def _run_change_set(self, change_set: ChangeSet, outer: ApiRequest) -> tuple[BatchResponseItem, bool]:
        """Run a change set in one transaction; a failure rolls all of it back.

        Returns the change set's answer and whether it failed; a failed change set is
        answered by the failing request's response alone.
        """
        references: dict[str, str] = {}
        answers: list[BatchResponsePart] = []
        try:
            with self.store.atomic():
                for part in change_set.requests:
                    answer = self._run_part(part, outer, references)
                    if answer.status >= 400:
                        raise _ChangeSetFailed(answer)
                    answers.append(answer)
                    entity_id = answer.headers.get("odata-entityid")
                    if entity_id and part.content_id:
                        references[part.content_id] = entity_id
        except _ChangeSetFailed as failure:
            return failure.response, True
        return ChangeSetResponse(answers), False

    def _run_part(self, part: BatchRequestPart, outer: ApiRequest, references: Mapping[str, str]) -> BatchResponsePart:
        """Execute one request of a batch; ``$n`` refers to a change set's earlier results."""
        try:
            inner = self._inner_request(part, outer, references)
            if unquote(inner.path).strip("/") == "$batch":
                raise _bad_request("A batch may not contain another batch.")
            response = self.dispatch(inner)
        except ApiError as exc:
            response = exc.to_response()
            response.headers.setdefault("odata-version", "4.0")
        headers = dict(response.headers)
        if part.method == "POST" and "odata-entityid" in headers:
            headers.setdefault("location", headers["odata-entityid"])
        return BatchResponsePart(response.status, headers, response.body, part.content_id)

    @staticmethod
    def _inner_request(part: BatchRequestPart, outer: ApiRequest, references: Mapping[str, str]) -> ApiRequest:
        url = part.url
        ref = _CONTENT_ID_RE.match(url)
        if ref is not None:
            if ref.group("id") not in references:
                raise _bad_request(f"The Content-ID reference '${ref.group('id')}' names no earlier request of this change set.")
            url = references[ref.group("id")] + (ref.group("rest") or "")
        split = urlsplit(url)
        base_path = urlsplit(outer.base_url).path or "/"
        path = split.path
        if path.startswith(base_path):
            path = path[len(base_path) :]
        elif path.startswith("/") or split.scheme:
            raise ApiError(404, E_BAD_REQUEST, f"The batch request URL '{part.url}' is not under {outer.base_url}.")
        body = part.body
        if references and body.strip():
            body = _replace_references(body, references)
        return ApiRequest(
            method=part.method,
            path=path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=part.headers,
            body=body,
            base_url=outer.base_url,
        )


def _replace_references(body: bytes, references: Mapping[str, str]) -> bytes:
    """Replace ``"x@odata.bind": "$n"`` with the entity URL created by request ``n``."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body  # the inner request reports the bad JSON itself
    if not isinstance(payload, dict):
        return body
    changed = False
    for name, value in payload.items():
        if name.endswith("@odata.bind") and isinstance(value, str):
            ref = _CONTENT_ID_RE.match(value)
            if ref is not None and ref.group("id") in references:
                payload[name] = references[ref.group("id")] + (ref.group("rest") or "")
                changed = True
    return json.dumps(payload).encode() if changed else body


def _now_text() -> str:
    return datetime.now(timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
