"""Answering the queries that are not OData system options: ``fetchXml``, ``sql``,
``savedQuery`` and ``userQuery``, and refusing any other query parameter.

A FetchXML (or SQL) answer differs from an OData one as the service's does: null columns are
left out, paging is by page number (``@Microsoft.Dynamics.CRM.morerecords``), and the total
count is an annotation. See docs/sandbox-fidelity.md, "FetchXML, SQL and saved queries".
"""

from __future__ import annotations

from urllib.parse import quote
from typing import Any, Mapping

from .dataverse_errors import bad_request, normalize_guid, not_found, parse_prefer
from .dataverse_fetchxml import FetchQuery, parse_fetch_xml
from .dataverse_rows import ORDER_SOURCES, RowView, count_annotations, present, wants
from .dataverse_sql import parse_sql
from .dataverse_tables import Table
from .http import ApiRequest, ApiResponse
from .store import EntityStore

#: Query parameters that are not ``$`` system options but that the service reads on an entity set.
VIEW_PARAMETERS = ("fetchXml", "sql", "savedQuery", "userQuery")


def view_parameter(params: Mapping[str, str]) -> str | None:
    """The non-OData query parameter of a list request, or None; 400 for an unknown one."""
    found = [name for name in params if not name.startswith("$")]
    for name in found:
        if name not in VIEW_PARAMETERS:
            raise bad_request(f"The query parameter {name} is not supported")
    if len(found) > 1:
        raise bad_request(f"The query parameters {' and '.join(found)} can't be used together.")
    if found and any(name.startswith("$") for name in params):
        others = ", ".join(name for name in params if name.startswith("$"))
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
    query = parse_fetch_xml(text, table) if name == "fetchXml" else parse_sql(text, table)
    return _answer(store, table, query, request)


def _answer(store: EntityStore, table: Table, query: FetchQuery, request: ApiRequest) -> ApiResponse:
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
    value = []
    for row in page:
        shown = present(store, table, row, select, wanted or None)
        value.append({k: v for k, v in shown.items() if v is not None})  # FetchXML leaves out nulls
    shape = "" if select is None else f"({','.join(dict.fromkeys((*select, table.primary_key)))})"
    body: dict[str, Any] = {"@odata.context": f"{request.base_url}$metadata#{table.entity_set}{shape}"}
    body.update(count_annotations(wanted, len(rows) if query.total_count else None))
    if wants(wanted, "Microsoft.Dynamics.CRM.morerecords"):
        body["@Microsoft.Dynamics.CRM.morerecords"] = more
    if more and page and wants(wanted, "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"):
        body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] = _paging_cookie(table, query.page, page)
    body["value"] = value
    headers = {"preference-applied": f'odata.include-annotations="{wanted}"'} if wanted else {}
    return ApiResponse.of_json(200, body, headers)


def _paging_cookie(table: Table, page_number: int, page: list[dict[str, Any]]) -> str:
    """The service's paging cookie: the page's first and last ids, URL-encoded twice inside a ``cookie`` element.

    The sandbox itself pages by the ``page`` number alone; a ``paging-cookie`` sent back is
    accepted and gives the same rows while the data does not change.
    """
    first, last = page[0][table.primary_key], page[-1][table.primary_key]
    inner = f'<cookie page="{page_number}"><{table.primary_key} last="{{{last}}}" first="{{{first}}}" /></cookie>'
    encoded = quote(quote(inner, safe=""), safe="")
    return f'<cookie pagenumber="{page_number + 1}" pagingcookie="{encoded}" istracking="False" />'


def _sort_key(value: Any) -> tuple[int, Any]:
    # Nulls first when ascending, as the service sorts; strings case-insensitively.
    if value is None:
        return (0, "")
    return (1, value.casefold() if isinstance(value, str) else value)
