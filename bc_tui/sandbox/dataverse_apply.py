"""``$apply`` aggregation on an entity set: ``filter(…)``, ``groupby((…))`` and ``aggregate(…)``
joined by ``/``, the subset the service documents ("Aggregate data using OData").

Aggregate methods ``sum``, ``average``, ``min``, ``max`` and ``$count``; ``countdistinct`` is
refused as the service refuses it, and so is grouping by a date. Grouping by a related table's
column (``primarycontactid/fullname``) is 501: the sandbox does not join. At most 50,000
rows are aggregated. See docs/sandbox-fidelity.md, "Query functions, formatted values, counts
and aggregation".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .dataverse_errors import E_BAD_REQUEST, bad_request, parse_prefer
from .dataverse_formatted import FORMATTED_VALUE, formatted_value
from .dataverse_query_functions import rewrite_query_functions, split_outside
from .dataverse_rows import RowView, api_value, wants
from .dataverse_tables import DATETIME, Table
from .http import ApiError, ApiRequest, ApiResponse
from .odata_query import QueryError, parse_filter

#: The most rows an aggregate may read.
AGGREGATE_ROW_LIMIT = 50_000
E_AGGREGATE_LIMIT = "0x8004e023"
_AGGREGATE_RE = re.compile(
    r"^\s*(?:(?P<count>\$count)|(?P<prop>[A-Za-z_][A-Za-z0-9_]*)\s+with\s+(?P<method>[A-Za-z]+))\s+as\s+(?P<alias>[A-Za-z_][A-Za-z0-9_]*)\s*$"
)
_METHODS: dict[str, Callable[[list[Any]], Any]] = {
    "sum": sum,
    "average": lambda values: sum(values) / len(values),
    "min": min,
    "max": max,
}


def answer_apply(
    rows: Iterable[Mapping[str, Any]], table: Table, request: ApiRequest, user_id: Callable[[], str]
) -> ApiResponse:
    """Run ``$apply`` over the stored rows of ``table``."""
    params = request.query
    others = [name for name in params if name.startswith("$") and name != "$apply"]
    if others:
        if "$orderby" in others:
            raise bad_request("The query node SingleValueOpenPropertyAccess is not supported")
        raise ApiError(501, E_BAD_REQUEST, f"The sandbox does not emulate $apply together with {', '.join(others)}.")
    current = [RowView(row) for row in rows]
    result: list[dict[str, Any]] | None = None
    formatted_from: dict[str, str] = {}  # output name -> the column whose format it takes
    for step in _steps(params["$apply"]):
        if result is not None:
            raise ApiError(
                501, E_BAD_REQUEST, "The sandbox does not emulate a transformation after groupby or aggregate."
            )
        name, _, inner = step.partition("(")
        inner = inner[:-1] if inner.endswith(")") else None  # type: ignore[assignment]
        if inner is None:
            raise bad_request(f"The $apply transformation '{step}' is not valid.")
        name = name.strip()
        if name == "filter":
            try:
                predicate = parse_filter(rewrite_query_functions(inner, table, user_id), like_patterns=True)
            except QueryError as exc:
                raise bad_request(str(exc)) from exc
            current = [row for row in current if predicate(row)]
        elif name == "groupby":
            result = _group_by(table, current, inner, formatted_from)
        elif name == "aggregate":
            result = [_aggregate(table, current, inner, formatted_from)]
        else:
            raise bad_request(f"The $apply transformation '{name}' is not supported.")
    if result is None:
        raise ApiError(501, E_BAD_REQUEST, "The sandbox does not emulate $apply without groupby or aggregate.")
    annotations = _annotations(request)
    if annotations and wants(annotations, FORMATTED_VALUE):
        result = [_with_formatted(table, row, formatted_from) for row in result]
    body = {"@odata.context": f"{request.base_url}$metadata#{table.entity_set}", "value": result}
    headers = {"preference-applied": f'odata.include-annotations="{annotations}"'} if annotations else {}
    return ApiResponse.of_json(200, body, headers)


def _annotations(request: ApiRequest) -> str | None:
    return parse_prefer(request.headers.get("prefer", "")).get("odata.include-annotations")


def _steps(text: str) -> list[str]:
    """``filter(a/b eq 1)/groupby((x))`` -> the transformations, split at ``/`` outside parentheses and quotes."""
    steps = (step.strip() for step in split_outside(text, "/", quotes="'"))
    return [step for step in steps if step]


def _check_rows(rows: list[Any]) -> None:
    if len(rows) > AGGREGATE_ROW_LIMIT:
        raise ApiError(400, E_AGGREGATE_LIMIT, "AggregateQueryRecordLimit exceeded. Cannot perform this operation.")


def _column(table: Table, name: str) -> str:
    if "/" in name:
        raise ApiError(
            501, E_BAD_REQUEST, f"The sandbox does not emulate aggregation on a related table's column ('{name}')."
        )
    if name not in table.properties:
        raise bad_request(f"Could not find a property named '{name}' on type '{table.type_name}'.")
    return name


def _group_by(table: Table, rows: list[RowView], inner: str, formatted_from: dict[str, str]) -> list[dict[str, Any]]:
    match = re.match(r"^\s*\((?P<props>[^()]*)\)\s*(?:,\s*aggregate\((?P<agg>.*)\))?\s*$", inner)
    if match is None:
        raise bad_request(f"The groupby transformation 'groupby({inner})' is not valid.")
    props = [_column(table, p.strip()) for p in match.group("props").split(",") if p.strip()]
    for prop in props:
        if table.properties[prop] == DATETIME:
            raise bad_request(f"groupby with datetime values is not supported ('{prop}').")
        formatted_from[prop] = prop
    _check_rows(rows)
    groups: dict[tuple[Any, ...], list[RowView]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(p) for p in props), []).append(row)
    out = []
    for key in sorted(groups, key=lambda k: tuple((v is not None, v) for v in k)):
        record = {p: v for p, v in zip(props, key, strict=True) if v is not None}  # a null group value is left out
        if match.group("agg"):
            record.update(_aggregate(table, groups[key], match.group("agg"), formatted_from))
        out.append(record)
    return out


def _aggregate(table: Table, rows: list[RowView], inner: str, formatted_from: dict[str, str]) -> dict[str, Any]:
    _check_rows(rows)
    out: dict[str, Any] = {}
    for item in inner.split(","):
        match = _AGGREGATE_RE.match(item)
        if match is None:
            raise bad_request(
                f"The aggregate expression '{item.strip()}' is not valid; use 'column with method as alias'."
            )
        alias = match.group("alias")
        if match.group("count"):
            out[alias] = len(rows)
            formatted_from[alias] = "$count"
            continue
        prop = _column(table, match.group("prop"))
        method = match.group("method").lower()
        if method == "countdistinct":
            raise bad_request(
                "The aggregate method countdistinct is not supported; Dataverse counts "
                "distinct values only in FetchXML."
            )
        if method not in _METHODS:
            raise bad_request(
                f"The aggregate method '{method}' is not supported; use sum, average, min, max or $count."
            )
        values = [v for row in rows if (v := api_value(row.row, prop)) is not None]
        out[alias] = _METHODS[method](values) if values else None
        formatted_from[alias] = prop
    return out


def _with_formatted(table: Table, row: Mapping[str, Any], formatted_from: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        source = formatted_from.get(name)
        text = f"{value:,}" if source == "$count" else formatted_value(table, source, value) if source else None
        if text is not None:
            out[f"{name}@{FORMATTED_VALUE}"] = text
        out[name] = value
    return out
