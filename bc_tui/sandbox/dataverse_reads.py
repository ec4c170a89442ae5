"""Reading Dataverse records: list queries with server-driven paging and change tracking,
single records, single properties and ``$count``."""

from __future__ import annotations

import builtins
import threading
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from urllib.parse import quote

from .dataverse_apply import answer_apply
from .dataverse_errors import E_BAD_REQUEST, bad_request, conditional, etag, etag_matches, not_found, parse_prefer
from .dataverse_expand import Expansion, context_shape, expand_row, parse_expand
from .dataverse_fetch_read import answer_view, view_parameter
from .dataverse_paging import OrderKeys, SkipTokenError, decode_skiptoken, encode_skiptoken
from .dataverse_query_functions import rewrite_query_functions
from .dataverse_rows import ORDER_SOURCES, RowView, api_value, count_annotations, present
from .dataverse_tables import TABLES, Table
from .http import ApiError, ApiRequest, ApiResponse
from .odata_query import Query, QueryError, key_candidates, parse_filter, parse_query
from .store import EntityStore

#: The most rows one page (or one ``$top``) may hold, and the default page size.
MAX_PAGE_SIZE = 5000
#: How many sorted query results to keep for following pages.
_SORT_CACHE_SIZE = 4


@dataclass
class _Ordered:
    """The rows matching a query in page order, with their sort keys (same positions)."""

    order_keys: OrderKeys
    keys: list[Any]
    rows: list[dict[str, Any]]


class DataverseReads:
    """GET on entity sets, records and properties of the served tables."""

    def __init__(self, store: EntityStore, user_id: Callable[[], str]) -> None:
        self.store = store
        #: The caller's systemuser id (what ``EqualUserId`` compares with).
        self.user_id = user_id
        self._sorted_cache: dict[tuple[Any, ...], tuple[int, _Ordered]] = {}
        self._cache_lock = threading.Lock()

    def present(
        self, table: Table, row: Mapping[str, Any], select: tuple[str, ...] | None, annotations: str | None
    ) -> dict[str, Any]:
        """A stored row as the API shows it (see ``dataverse_rows.present``)."""
        return present(self.store, table, row, select, annotations)

    def parse_query(self, table: Table, params: Mapping[str, str]) -> Query:
        """The query options of a request, refused when they name properties the table lacks."""
        if "$filter" in params:
            params = {
                **params,
                "$filter": rewrite_query_functions(params["$filter"], table, self.user_id, self._related),
            }
        try:
            # Dataverse reads the text of contains/startswith/endswith as a LIKE pattern.
            query = parse_query(params, allow_skip=False, like_patterns=True)
        except QueryError as exc:
            raise bad_request(str(exc)) from exc
        readable = table.properties
        for name in query.select or ():
            if name not in readable:
                raise bad_request(f"Could not find a property named '{name}' on type '{table.type_name}'.")
        for name, _ in query.orderby:
            if name not in readable:
                raise bad_request(f"Could not find a property named '{name}' on type '{table.type_name}'.")
        return query

    def _related(self, entity_set: str, filter_text: str) -> list[str]:
        """The ids of the rows of ``entity_set`` that match ``filter_text`` (for ``nav/prop`` conditions)."""
        target = TABLES[entity_set]
        try:
            predicate = parse_filter(filter_text, like_patterns=True)
        except QueryError as exc:
            raise bad_request(str(exc)) from exc
        return [str(row[target.primary_key]) for row in self.store.rows(target.store_set) if predicate(RowView(row))]

    @staticmethod
    def context(
        request: ApiRequest,
        table: Table,
        select: tuple[str, ...] | None,
        suffix: str = "",
        expansions: tuple[Expansion, ...] = (),
    ) -> str:
        """The ``@odata.context`` URL of an answer about ``table``."""
        return f"{request.base_url}$metadata#{table.entity_set}{context_shape(select, expansions)}{suffix}"

    def count(self, table: Table) -> ApiResponse:
        """``GET <set>/$count``: a plain-text number."""
        # Like the real service, a count stops at the page-size limit.
        count = min(self.store.count(table.store_set), MAX_PAGE_SIZE)
        return ApiResponse(200, str(count).encode(), {"content-type": "text/plain"})

    def list(self, table: Table, request: ApiRequest) -> ApiResponse:
        """``GET <set>``: one page of the matching rows, with a next or delta link."""
        params = dict(request.query)
        view = view_parameter(params)
        if view is not None:
            return answer_view(self.store, table, view, request)
        if "$apply" in params:
            return answer_apply(self.store.rows(table.store_set), table, request, self.user_id)
        delta_token = params.get("$deltatoken")
        expansions = parse_expand(params["$expand"], table) if "$expand" in params else ()
        query = self.parse_query(table, {k: v for k, v in params.items() if k not in ("$deltatoken", "$expand")})
        prefer = parse_prefer(request.headers.get("prefer", ""))
        annotations = prefer.get("odata.include-annotations")
        applied: list[str] = []
        page_size = MAX_PAGE_SIZE
        if "odata.maxpagesize" in prefer:
            text = prefer["odata.maxpagesize"]
            if not text.isdigit() or int(text) < 1:
                raise bad_request(f"The odata.maxpagesize preference '{text}' is not a positive integer.")
            page_size = min(int(text), MAX_PAGE_SIZE)
            applied.append(f"odata.maxpagesize={page_size}")
        # With both, the service pages by odata.maxpagesize and ignores $top ("Page results using OData").
        top = None if "odata.maxpagesize" in prefer else query.top
        if annotations is not None:
            applied.append(f'odata.include-annotations="{annotations}"')
        tracking = "odata.track-changes" in prefer or delta_token is not None
        if tracking and (query.orderby or query.filter is not None or query.top is not None):
            raise bad_request("Change tracking does not support $filter, $orderby or $top.")

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
                raise bad_request(f"The $skiptoken is not valid: {exc}.") from exc
            cursor_values, page_number = cursor.values, cursor.page_number + 1

        since = self._delta_version(delta_token) if delta_token is not None else None
        ordered = self._ordered_rows(table, order, params.get("$filter"), query, since, cursor_values)
        start = 0 if cursor_values is None else bisect_right(ordered.keys, ordered.order_keys.of_values(cursor_values))
        limit = page_size if top is None else min(top, MAX_PAGE_SIZE)
        page = ordered.rows[start : start + limit]
        more = start + limit < len(ordered.rows) and top is None
        value: list[dict[str, Any]] = [
            {
                **self.present(table, row, query.select, annotations),
                **expand_row(self.store, row, expansions, annotations),
            }
            for row in page
        ]
        body: dict[str, Any] = {"@odata.context": self.context(request, table, query.select, expansions=expansions)}
        if query.count:
            body["@odata.count"] = min(len(ordered.rows), MAX_PAGE_SIZE)
        body.update(count_annotations(annotations, len(ordered.rows) if query.count else None))
        if more:
            last_values = [api_value(page[-1], name) for name, _ in order]
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
        order: builtins.list[tuple[str, bool]],  # builtins: the class's own ``list`` shadows it
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
            if (predicate is None or predicate(RowView(row))) and (since is None or row["_version"] > since)
        ]
        order_keys = OrderKeys(order, ORDER_SOURCES, matched, cursor_values)
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
            raise bad_request(f"The $deltatoken '{token}' is not valid.")
        return int(version)

    def _deleted_entities(self, request: ApiRequest, table: Table, since: int) -> builtins.list[dict[str, Any]]:
        if since == 0:  # the first, full read has nothing to forget
            return []
        context = f"{request.base_url}$metadata#{table.entity_set}/$deletedEntity"
        return [
            {"@odata.context": context, "id": key, "reason": "deleted"}
            for key, _version, _modified in self.store.deletions(table.store_set, since)
        ]

    def existing(self, table: Table, key: str) -> dict[str, Any]:
        """The stored row with ``key``; 404 with the service's message when there is none."""
        row = self.store.get(table.store_set, key)
        if row is None:
            raise not_found(table.logical_name, key)
        return row

    def retrieve(self, table: Table, key: str, request: ApiRequest) -> ApiResponse:
        """``GET <set>(<id>)``: one record, or 304 when ``If-None-Match`` names its version."""
        expansions = parse_expand(request.query["$expand"], table) if "$expand" in request.query else ()
        query = self.parse_query(table, {k: v for k, v in request.query.items() if k != "$expand"})
        row = self.existing(table, key)
        none_match = conditional(request.headers, "if-none-match")
        if none_match is not None and etag_matches(none_match, row):
            return ApiResponse.empty(304, {"etag": etag(row)})
        annotations = parse_prefer(request.headers.get("prefer", "")).get("odata.include-annotations")
        body = {
            "@odata.context": self.context(request, table, query.select, "/$entity", expansions),
            **self.present(table, row, query.select, annotations),
            **expand_row(self.store, row, expansions, annotations),
        }
        headers = {"etag": etag(row)}
        if annotations is not None:
            headers["preference-applied"] = f'odata.include-annotations="{annotations}"'
        return ApiResponse.of_json(200, body, headers)

    def property(self, table: Table, key: str, name: str, request: ApiRequest) -> ApiResponse:
        """``GET <set>(<id>)/<property>``: one property's value."""
        if request.method.upper() != "GET":
            raise ApiError(405, E_BAD_REQUEST, f"The method {request.method.upper()} is not allowed on a property.")
        row = self.existing(table, key)
        context = f"{request.base_url}$metadata#{table.entity_set}({key})/{name}"
        return ApiResponse.of_json(200, {"@odata.context": context, "value": api_value(row, name)})


def _now_text() -> str:
    return datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
