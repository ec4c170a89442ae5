"""Answering the queries that are not OData system options: ``fetchXml``, ``sql``,
``savedQuery`` and ``userQuery``, and refusing any other query parameter.

A FetchXML (or SQL) answer differs from an OData one as the service's does: null columns are
left out, paging is by page number (``@Microsoft.Dynamics.CRM.morerecords``), and the total
count is an annotation. See docs/sandbox-fidelity.md, "FetchXML, SQL and saved queries".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from .dataverse_errors import E_BAD_REQUEST, bad_request, normalize_guid, not_found, parse_prefer
from .dataverse_fetchxml import FetchQuery, parse_fetch_xml
from .dataverse_rows import COUNT_LIMIT, ORDER_SOURCES, RowView, count_annotations, present, wants
from .dataverse_sql import parse_sql
from .dataverse_tables import Table
from .http import ApiError, ApiRequest, ApiResponse
from .store import EntityStore

#: Query parameters that are not ``$`` system options but that the service reads on an entity set.
VIEW_PARAMETERS = ("fetchXml", "sql", "savedQuery", "userQuery")


def view_parameter(params: Mapping[str, str]) -> str | None:
    """The non-OData query parameter of a list request, or None; 400 for an unknown one."""
    found = [name for name in params if not name.startswith("$")]
    for name in found:
        if name.startswith("@"):  # the service substitutes parameter aliases into $filter; the sandbox doesn't
            raise ApiError(501, E_BAD_REQUEST, f"The sandbox does not emulate parameter aliases ('{name}') in queries.")
        if name not in VIEW_PARAMETERS:
            raise bad_request(f"The query parameter {name} is not supported")
    if len(found) > 1:
        raise bad_request(f"The query parameters {' and '.join(found)} can't be used together.")
    # A SQL query pages through @odata.nextLink, whose $skiptoken comes back with it.
    allowed = {"$skiptoken"} if found == ["sql"] else set()
    if found and any(name.startswith("$") and name not in allowed for name in params):
        others = ", ".join(name for name in params if name.startswith("$") and name not in allowed)
        raise bad_request(f"The query parameter {found[0]} can't be combined with {others}.")
    return found[0] if found else None


def answer_view(store: EntityStore, table: Table, name: str, request: ApiRequest) -> ApiResponse:
    """Run a ``fetchXml``/``sql`` query, or refuse a saved or user query the sandbox doesn't hold."""
    text = request.query[name]
    if name in ("savedQuery", "userQuery"):
        key = normalize_guid(text)
        if key is None:
            raise bad_request(f"The value '{text}' of {name} is not a valid GUID.")
        # The sandbox holds no saved views (savedquery/userquery tables): every id is missing.
        raise not_found(name.lower(), key)
    if name == "fetchXml":
        return _answer(store, table, parse_fetch_xml(text, table), request)
    return _answer_sql(store, table, parse_sql(text, table), request)


def _answer_sql(store: EntityStore, table: Table, query: FetchQuery, request: ApiRequest) -> ApiResponse:
    """SQL pages by ``Prefer: odata.maxpagesize`` and ``@odata.nextLink``, not by page number."""
    prefer = parse_prefer(request.headers.get("prefer", ""))
    size_text = prefer.get("odata.maxpagesize")
    if size_text is not None and (not size_text.isdigit() or int(size_text) < 1):
        raise bad_request(f"The odata.maxpagesize preference '{size_text}' is not a positive integer.")
    page_size = min(int(size_text), COUNT_LIMIT) if size_text else COUNT_LIMIT
    page = 1
    token = request.query.get("$skiptoken")
    if token is not None:
        found = re.search(r'pagenumber="(\d+)"', token)
        if found is None:
            raise bad_request(f"The $skiptoken '{token}' is not valid.")
        page = int(found.group(1))
    if query.top is None:
        query = replace(query, page_size=page_size, page=page)
    response = _answer(store, table, query, request, paged_by_link=query.top is None)
    if size_text:
        applied = response.headers.get("preference-applied")
        response.headers["preference-applied"] = ",".join(filter(None, [f"odata.maxpagesize={page_size}", applied]))
    return response


def _answer(
    store: EntityStore, table: Table, query: FetchQuery, request: ApiRequest, paged_by_link: bool = False
) -> ApiResponse:
    rows = [row for row in store.rows(table.store_set) if query.predicate is None or query.predicate(RowView(row))]
    order = [*query.order, (table.primary_key, False)]
    for name, descending in reversed(order):  # stable sorts, last key first
        source = ORDER_SOURCES.get(name, name)
        rows.sort(key=lambda row: _sort_key(source(row) if callable(source) else row.get(source)), reverse=descending)
    if query.top is not None:
        start, size = 0, query.top
    else:
        start, size = (query.page - 1) * query.page_size, query.page_size
    page = rows[start : start + size]
    more = query.top is None and start + size < len(rows)
    wanted = parse_prefer(request.headers.get("prefer", "")).get("odata.include-annotations", "")
    select = None if query.columns is None else query.columns
    aliases = dict(query.aliases)
    value = []
    for row in page:
        shown = present(store, table, row, select, wanted or None)
        value.append(_aliased({k: v for k, v in shown.items() if v is not None}, aliases, wanted))  # nulls left out
    shape = "" if select is None else f"({','.join(dict.fromkeys((*select, table.primary_key)))})"
    body: dict[str, Any] = {"@odata.context": f"{request.base_url}$metadata#{table.entity_set}{shape}"}
    body.update(count_annotations(wanted, len(rows) if query.total_count else None))
    if not paged_by_link and wants(wanted, "Microsoft.Dynamics.CRM.morerecords"):
        body["@Microsoft.Dynamics.CRM.morerecords"] = more
    if more and page and not paged_by_link and wants(wanted, "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"):
        body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] = _paging_cookie(table, query.page, page)
    body["value"] = value
    if paged_by_link and more:
        # In a next link the cookie's inner part is encoded once, then the whole token once more.
        cookie = _paging_cookie(table, query.page, page, encodings=1)
        link_query = urlencode({"sql": request.query["sql"], "$skiptoken": cookie}, quote_via=quote, safe="$")
        body["@odata.nextLink"] = f"{request.base_url}{table.entity_set}?{link_query}"
    headers = {"preference-applied": f'odata.include-annotations="{wanted}"'} if wanted else {}
    return ApiResponse.of_json(200, body, headers)


def _aliased(row: dict[str, Any], aliases: Mapping[str, str], wanted: str) -> dict[str, Any]:
    """A row with aliased columns renamed; the original name rides along as ``AttributeName`` when asked for."""
    if not aliases:
        return row
    out: dict[str, Any] = {}
    for name, value in row.items():
        column, _, annotation = name.partition("@")
        alias = aliases.get(column)
        if alias is None:
            out[name] = value
        elif annotation:
            out[f"{alias}@{annotation}"] = value
        else:
            if wanted and wants(wanted, "OData.Community.Display.V1.AttributeName"):
                out[f"{alias}@OData.Community.Display.V1.AttributeName"] = column
            out[alias] = value
    return out


def _paging_cookie(table: Table, page_number: int, page: list[dict[str, Any]], encodings: int = 2) -> str:
    """The service's paging cookie: the page's first and last ids, URL-encoded (twice in the FetchXML
    annotation) inside a ``cookie`` element.

    The sandbox itself pages by the ``page`` number alone; a ``paging-cookie`` sent back is
    accepted and gives the same rows while the data does not change.
    """
    first, last = page[0][table.primary_key], page[-1][table.primary_key]
    inner = f'<cookie page="{page_number}"><{table.primary_key} last="{{{last}}}" first="{{{first}}}" /></cookie>'
    encoded = inner
    for _ in range(encodings):
        encoded = quote(encoded, safe="")
    return f'<cookie pagenumber="{page_number + 1}" pagingcookie="{encoded}" istracking="False" />'


def _sort_key(value: Any) -> tuple[int, Any]:
    # Nulls first when ascending, as the service sorts; strings case-insensitively.
    if value is None:
        return (0, "")
    return (1, value.casefold() if isinstance(value, str) else value)
