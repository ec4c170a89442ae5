"""Business Central API v2.0 emulation: companies, customers and contacts, plus JSON ``$batch``.

``dispatch`` is synchronous and never raises: every failure becomes an OData error response
(``{"error":{"code":…,"message":…}}``), as on the real service. Paths are relative to
``/v2.0/{tenant}/{environment}/api/v2.0/`` (e.g. ``companies(<id>)/customers(<id>)``).

Behaviour modelled on the real API: server-assigned ids, numbers from a No. Series and unique
per company (``Internal_EntityWithSameKeyExists``), ``If-Match`` required on PATCH/DELETE
(412 ``Request_EntityChanged`` when stale), ``$filter``/``$select``/``$orderby``/``$top``/
``$skip``/``$count``, server-driven paging with ``Prefer: odata.maxpagesize`` (at most and by
default 20,000) and ``@odata.nextLink``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

from .bc_batch import run_batch
from .bc_entities import (
    COMPANIES,
    COMPANY_ENTITIES,
    CONTACTS,
    EntityDef,
    etag_of,
    fill_search_name,
    new_row,
    to_json,
    validate_body,
)
from .bc_metadata import is_metadata_path, metadata_response
from .bc_numbers import NumberIndex
from .bc_paging import MAX_PAGE_SIZE, SkipToken, max_page_size, take_page
from .bc_query import ListQuery, read_query, read_single_query
from .bc_routes import method_not_allowed, not_found, route_of
from .http import ApiError, ApiRequest, ApiResponse
from .odata_query import apply_select, key_candidates
from .settings import SandboxSettings
from .store import EntityStore

log = logging.getLogger(__name__)

#: How many filtered-and-ordered lists to keep for paging through them.
_LIST_CACHE_SIZE = 8


class _ListCache:
    """Filtered and ordered row lists, valid while the store version is unchanged.

    Following ``@odata.nextLink`` through 100,000 rows must not refilter and resort on every
    page: a page finds its start by binary search in the cached list instead.
    """

    def __init__(self, store: EntityStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], tuple[int, list[Mapping[str, Any]]]] = OrderedDict()
        #: >0 while a batch runs: its reads may see writes that a rollback will undo.
        self.suspended = 0

    def get(self, key: tuple[Any, ...], build: Callable[[], list[Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
        version = self._store.version  # read before building: a racing write only makes it stale
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == version and not self.suspended:
                self._entries.move_to_end(key)
                return hit[1]
        rows = build()
        if not self.suspended:
            with self._lock:
                self._entries[key] = (version, rows)
                self._entries.move_to_end(key)
                while len(self._entries) > _LIST_CACHE_SIZE:
                    self._entries.popitem(last=False)
        return rows

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()


class BusinessCentralApi:
    """``/v2.0/{tenant}/{environment}/api/v2.0/…`` — dispatch() never raises; errors become OData error responses."""

    def __init__(self, store: EntityStore, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings
        self._numbers = NumberIndex(store, COMPANY_ENTITIES.values())
        self._lists = _ListCache(store)

    # ------------------------------------------------------------------ entry points

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Serve one request (``$batch`` included); never raises."""
        if request.path.strip("/") == "$batch":
            try:
                return _odata_v4(run_batch(self, request))
            except ApiError as exc:
                return _odata_v4(exc.to_response())
            except Exception:
                log.exception("BC $batch failed")
                return _odata_v4(_internal_error())
        return _odata_v4(self.execute(request))

    def execute(self, request: ApiRequest) -> ApiResponse:
        """Serve one non-batch operation (also used for each part of a batch); never raises."""
        try:
            return self._handle(request)
        except ApiError as exc:
            return exc.to_response()
        except Exception:
            log.exception("BC request %s %s failed", request.method, request.path)
            return _internal_error()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``store.atomic()`` that also forgets derived state when a rollback undid writes."""
        before = self.store.version
        try:
            with self.store.atomic():
                yield
        except BaseException:
            if self.store.version != before:
                self._numbers.invalidate()
                self._lists.invalidate()
            raise

    @contextmanager
    def batch_reads(self) -> Iterator[None]:
        """While a batch runs, its list reads bypass the cache (they may see rolled-back rows)."""
        self._lists.suspended += 1
        try:
            yield
        finally:
            self._lists.suspended -= 1

    # ------------------------------------------------------------------ routing

    def _handle(self, request: ApiRequest) -> ApiResponse:
        method = request.method.upper()
        if is_metadata_path(request.path):
            if method != "GET":
                raise method_not_allowed(method, ("GET",))
            if request.path.strip("/") != "$metadata":  # companies(<id>)/$metadata: the company must exist
                self._company(route_of(request.path.strip("/").split("/")[0]).company_id or "")
            return metadata_response()
        route = route_of(request.path)
        if route.kind == "companies":
            if method != "GET":
                raise method_not_allowed(method, ("GET",))
            return self._list(COMPANIES, None, request)
        company = self._company(route.company_id or "")
        if route.kind == "company":
            if method != "GET":
                raise method_not_allowed(method, ("GET",))
            return self._single(COMPANIES, company, request, "companies/$entity")
        entity = route.entity
        assert entity is not None
        if route.kind == "count":
            if method != "GET":
                raise method_not_allowed(method, ("GET",))
            return self._count(entity, company["id"], request)
        if route.kind == "collection":
            if method == "GET":
                return self._list(entity, company["id"], request)
            if method == "POST":
                return self._create(entity, company["id"], request)
            raise method_not_allowed(method, ("GET", "POST"))
        assert route.key is not None
        if method == "GET":
            row = self._row(entity, company["id"], route.key)
            return self._single(entity, row, request, f"companies({company['id']})/{entity.name}/$entity")
        if method == "PATCH":
            return self._update(entity, company["id"], route.key, request)
        if method == "DELETE":
            return self._delete(entity, company["id"], route.key, request)
        raise method_not_allowed(method, ("GET", "PATCH", "DELETE"))

    def _company(self, company_id: str) -> Mapping[str, Any]:
        row = self.store.get(COMPANIES.entity_set, company_id)
        if row is None:
            raise not_found(f"The company with id '{company_id}' does not exist.")
        return row

    def _row(self, entity: EntityDef, company_id: str, key: str) -> Mapping[str, Any]:
        row = self.store.get(entity.entity_set, key)
        if row is None or row.get("_company") != company_id:
            raise not_found(f"The {entity.table_caption} does not exist. Identification fields and values: Id='{key}'")
        return row

    # ------------------------------------------------------------------ reads

    def _read_query(self, entity: EntityDef, request: ApiRequest) -> ListQuery:
        """The list request's query options, read with this sandbox's filter settings."""
        return read_query(
            entity,
            request.query,
            refuse_or_across_fields=self.settings.bc_refuse_or_across_fields,
            case_sensitive=not self.settings.bc_text_ignores_case,
            whole_seconds=self.settings.bc_modified_whole_seconds,
        )

    def _list(self, entity: EntityDef, company_id: str | None, request: ApiRequest) -> ApiResponse:
        spec = self._read_query(entity, request)
        query = spec.query

        def build() -> list[Mapping[str, Any]]:
            keys = key_candidates(query.filter, "id")
            # A list of ids (how clients fetch records by id) is answered by key, not by a scan.
            candidates = (
                [row for key in keys if (row := self.store.get(entity.entity_set, key)) is not None]
                if keys is not None
                else self.store.rows(entity.entity_set)
            )
            rows: list[Mapping[str, Any]] = [
                row
                for row in candidates
                if (company_id is None or row.get("_company") == company_id) and spec.matches(row)
            ]
            spec.ordering.sort(rows)
            return rows

        ordered = self._lists.get((entity.entity_set, company_id, spec.signature), build)
        asked = max_page_size(request.headers.get("prefer"))
        token = SkipToken.decode(query.skiptoken, len(spec.ordering.keys)) if query.skiptoken else None
        page = take_page(
            ordered,
            spec.ordering,
            token=token,
            skip=query.skip,
            top=query.top,
            page_size=asked or MAX_PAGE_SIZE,
        )
        context = "companies" if company_id is None else f"companies({company_id})/{entity.name}"
        body: dict[str, Any] = {"@odata.context": f"{request.base_url}$metadata#{context}"}
        if query.count:
            body["@odata.count"] = len(ordered)
        whole = self.settings.bc_modified_whole_seconds
        if query.select is None:
            body["value"] = [to_json(entity, row, whole_seconds=whole) for row in page.rows]
        else:
            body["value"] = [apply_select(to_json(entity, row, whole_seconds=whole), query.select) for row in page.rows]
        if page.next_token is not None:
            body["@odata.nextLink"] = _next_link(request, page.next_token)
        headers = {"preference-applied": f"odata.maxpagesize={asked}"} if asked else {}
        return ApiResponse.of_json(200, body, headers)

    def _count(self, entity: EntityDef, company_id: str, request: ApiRequest) -> ApiResponse:
        spec = self._read_query(entity, request)
        total = sum(
            1 for row in self.store.rows(entity.entity_set) if row.get("_company") == company_id and spec.matches(row)
        )
        return ApiResponse(200, str(total).encode(), {"content-type": "text/plain"})

    def _single(
        self,
        entity: EntityDef,
        row: Mapping[str, Any],
        request: ApiRequest,
        context: str,
        status: int = 200,
        extra: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        select = read_single_query(entity, request.query)
        body = {"@odata.context": f"{request.base_url}$metadata#{context}"}
        body.update(apply_select(to_json(entity, row, whole_seconds=self.settings.bc_modified_whole_seconds), select))
        headers = dict(extra or {})
        if entity.has_etag:
            headers["etag"] = etag_of(row)
        return ApiResponse.of_json(status, body, headers)

    # ------------------------------------------------------------------ writes

    def _create(self, entity: EntityDef, company_id: str, request: ApiRequest) -> ApiResponse:
        read_single_query(entity, request.query)  # a bad query option is refused before anything is written
        changes = validate_body(entity, request.json())
        with self.transaction():
            number = changes.get("number") or ""
            if number:
                self._check_manual_number(entity)
                self._check_number_free(entity, company_id, number, None)
            else:
                changes["number"] = self._numbers.next_number(entity, company_id)
            if entity is CONTACTS:
                fill_search_name({}, changes)
            row = new_row(entity, changes)
            if entity is CONTACTS:
                self._link_company_contact(company_id, row, changes)
            new_id = str(uuid.uuid4())
            row["id"] = new_id
            row["_company"] = company_id
            stored = self.store.insert(entity.entity_set, new_id, row)
            self._numbers.record(entity, company_id, new_id, new=stored["number"])
        location = f"{request.base_url}companies({company_id})/{entity.name}({new_id})"
        return self._single(
            entity,
            stored,
            request,
            f"companies({company_id})/{entity.name}/$entity",
            status=201,
            extra={"location": location},
        )

    def _update(self, entity: EntityDef, company_id: str, key: str, request: ApiRequest) -> ApiResponse:
        self._row(entity, company_id, key)
        if_match = _require_if_match(request)
        read_single_query(entity, request.query)  # a bad query option is refused before anything is written
        changes = validate_body(entity, request.json())
        with self.transaction():
            row = self._row(entity, company_id, key)  # again, now that we hold the store
            _check_etag(row, if_match)
            old_number = row.get("number") or ""
            if "number" in changes:
                if not changes["number"]:
                    raise ApiError(400, "BadRequest", f"The {entity.table_caption} No. must not be blank.")
                if changes["number"] != old_number:
                    self._check_manual_number(entity)
                    self._check_number_free(entity, company_id, changes["number"], key)
            if entity is CONTACTS:
                fill_search_name(row, changes)
                merged = {**row, **changes}
                self._link_company_contact(company_id, merged, changes)
                changes = {k: v for k, v in merged.items() if k in entity.fields and row.get(k) != v}
            changes = {k: v for k, v in changes.items() if row.get(k) != v}
            stored: Mapping[str, Any]
            if changes:
                stored = self.store.update(entity.entity_set, key, changes)
                self._numbers.record(entity, company_id, key, new=stored.get("number"), old=old_number)
            else:
                stored = row  # BC does not modify a record that did not change
        return self._single(entity, stored, request, f"companies({company_id})/{entity.name}/$entity")

    def _delete(self, entity: EntityDef, company_id: str, key: str, request: ApiRequest) -> ApiResponse:
        self._row(entity, company_id, key)
        if_match = _require_if_match(request)
        with self.transaction():
            row = self._row(entity, company_id, key)
            _check_etag(row, if_match)
            self.store.delete(entity.entity_set, key)
            self._numbers.record(entity, company_id, key, new=None, old=row.get("number"))
        return ApiResponse.empty(204)

    def _check_manual_number(self, entity: EntityDef) -> None:
        """BC's refusal of a number typed in when the entity's No. Series has no Manual Nos."""
        series = entity.number_series
        if self.settings.bc_refuse_manual_numbers and series is not None:
            raise ApiError(
                400,
                "Application_DialogException",
                "You may not enter numbers manually. If you want to enter numbers manually, "
                f"please activate Manual Nos. in No. Series {series.code}.",
            )

    def _check_number_free(self, entity: EntityDef, company_id: str, number: str, own_id: str | None) -> None:
        owner = self._numbers.owner(entity, company_id, number)
        if owner is not None and owner != own_id:
            # Exact code and shape matter: connectors reconcile a lost create by this error.
            raise ApiError(
                400,
                "Internal_EntityWithSameKeyExists",
                f"The record already exists. Identification fields and values: No.='{number}'",
            )

    def _link_company_contact(self, company_id: str, row: dict[str, Any], changes: dict[str, Any]) -> None:
        """BC's contact rules: a company contact is its own company; a person's company must exist."""
        if row.get("type") == "Company":
            row["companyNumber"] = row.get("number") or ""
            row["companyName"] = row.get("displayName") or ""
            return
        if "companyNumber" not in changes:
            return  # only a new link is checked: a person keeps its company even if that one is gone
        company_number = row.get("companyNumber") or ""
        if not company_number:
            row["companyName"] = ""
            return
        owner = self._numbers.owner(CONTACTS, company_id, company_number)
        company = self.store.get(CONTACTS.entity_set, owner) if owner else None
        if company is None or company.get("type") != "Company":
            raise ApiError(
                400,
                "BadRequest",
                f"The field Company No. of table Contact contains a value ({company_number}) that cannot be "
                "found in the related table (Contact). Use the number of a contact of type Company.",
            )
        row["companyName"] = company.get("displayName") or ""


def _odata_v4(response: ApiResponse) -> ApiResponse:
    """BC names the protocol version on every answer (docs/sandbox-fidelity.md, "Business Central
    API v2.0")."""
    response.headers.setdefault("odata-version", "4.0")
    return response


def _internal_error() -> ApiResponse:
    return ApiError(
        500, "Internal_ServerError", "The sandbox failed to process the request; see its log."
    ).to_response()


def _require_if_match(request: ApiRequest) -> str:
    value = request.headers.get("if-match")
    if value is None or not value.strip():
        raise ApiError(
            400,
            "BadRequest_InvalidToken",
            "Could not validate the client concurrency token required by the service. "
            "Please provide a valid token in the client request (an If-Match header with the ETag, or *).",
        )
    return value


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _check_etag(row: Mapping[str, Any], if_match: str) -> None:
    current = _opaque(etag_of(row))
    for candidate in if_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or _opaque(candidate) == current:
            return
    raise ApiError(412, "Request_EntityChanged", "Another user has already changed the record.")


def _next_link(request: ApiRequest, token: SkipToken) -> str:
    params = [(k, v) for k, v in request.query.items() if k != "$skiptoken"]
    params.append(("$skiptoken", token.encode()))
    query = urlencode(params, quote_via=quote, safe="$(),'*:")
    return f"{request.base_url}{request.path.lstrip('/')}?{query}"
