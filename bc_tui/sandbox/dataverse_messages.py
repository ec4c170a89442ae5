"""Unbound Dataverse messages at the API root: ``RetrieveTotalRecordCount`` is answered; other
well-known actions and functions the sandbox does not run (``BulkDelete``, ``CreateEntities``, …)
get 501 rather than the 404 of a segment that does not exist. See docs/sandbox-fidelity.md,
"Query functions, formatted values, counts and aggregation".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .dataverse_errors import E_BAD_REQUEST, bad_request
from .dataverse_tables import TABLES
from .http import ApiError, ApiRequest, ApiResponse
from .store import EntityStore

#: Unbound messages of the real service that the sandbox does not run.
NOT_EMULATED = frozenset(
    {
        "BulkDelete",
        "CreateEntities",
        "CreateAttribute",
        "CreateOneToMany",
        "CreateManyToMany",
        "UpdateEntity",
        "DeleteEntity",
        "Merge",
        "InitializeFrom",
        "RetrieveVersion",
        "RetrieveCurrentOrganization",
        "ExecuteWorkflow",
    }
)
_CALL_RE = re.compile(r"^RetrieveTotalRecordCount\(EntityNames=(?P<names>.*)\)$", re.DOTALL)


def message_name(path: str) -> str:
    """The name of an unbound message a path calls (``RetrieveTotalRecordCount(…)`` -> its name)."""
    return path.split("(", 1)[0].split("/", 1)[0]


def answer_message(store: EntityStore, path: str, request: ApiRequest) -> ApiResponse:
    """Answer ``RetrieveTotalRecordCount``; 501 for a known message the sandbox does not run."""
    name = message_name(path)
    if name != "RetrieveTotalRecordCount":
        raise ApiError(501, E_BAD_REQUEST, f"The sandbox does not emulate the {name} message.")
    if request.method.upper() != "GET":
        raise ApiError(405, E_BAD_REQUEST, "RetrieveTotalRecordCount is a function; call it with GET.")
    match = _CALL_RE.match(path)
    if match is None:
        raise bad_request(
            "RetrieveTotalRecordCount takes one parameter, EntityNames: "
            "RetrieveTotalRecordCount(EntityNames=['account'])."
        )
    names = _names(match.group("names"), request.query)
    by_logical = {table.logical_name: table for table in TABLES.values()}
    counts: list[int] = []
    for logical in names:
        table = by_logical.get(logical)
        if table is None:
            raise bad_request(f"The entity with a name = '{logical}' was not found in the MetadataCache.")
        counts.append(store.count(table.store_set))
    collection: dict[str, Any] = {"Count": len(names), "IsReadOnly": False, "Keys": names, "Values": counts}
    context = f"{request.base_url}$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse"
    return ApiResponse.of_json(200, {"@odata.context": context, "EntityRecordCountCollection": collection})


def _names(text: str, query: Mapping[str, str]) -> list[str]:
    text = text.strip()
    if text.startswith("@"):  # a parameter alias: RetrieveTotalRecordCount(EntityNames=@p1)?@p1=['account']
        if text not in query:
            raise bad_request(f"The parameter alias {text} has no value in the query.")
        text = query[text].strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise bad_request("EntityNames must be a list of logical names such as ['account','contact'].")
    names = re.findall(r"""['"]([^'"]*)['"]""", text[1:-1])
    if not names:
        raise bad_request("EntityNames must name at least one table.")
    return names
