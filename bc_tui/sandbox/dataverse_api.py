"""Dataverse Web API v9.2 emulation: ``/api/data/v9.2/…`` over the sandbox store.

Serves ``WhoAmI``, the ``accounts``, ``contacts`` and (read-only) ``systemusers`` entity sets
with create, read, upsert and delete, OData queries with server-driven paging, change
tracking, and multipart ``$batch`` with atomic change sets, answering with the real
service's status codes and error codes (``{"error":{"code":"0x…","message":"…"}}``).

This module routes; reading is ``dataverse_reads``, writing ``dataverse_writes``, ``$batch``
``dataverse_batch_run`` and the shared errors ``dataverse_errors``.

Authentication, latency, service-protection limits, fault injection and ``x-ms-dop-hint``
are the app's business (``app.py``), not this module's.
"""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import unquote

from .dataverse_batch_run import BatchRunner
from .dataverse_bulk import is_bulk_action, run_bulk
from .dataverse_errors import E_BAD_REQUEST, E_UNEXPECTED
from .dataverse_keys import find, missing, parse_key
from .dataverse_messages import NOT_EMULATED, answer_message, message_name
from .dataverse_metadata import DataverseMetadata
from .dataverse_reads import DataverseReads
from .dataverse_tables import SYSTEMUSERS, TABLES, Table
from .dataverse_writes import DataverseWrites
from .http import ApiError, ApiRequest, ApiResponse
from .settings import SANDBOX_NAMESPACE, SandboxSettings
from .store import EntityStore

log = logging.getLogger(__name__)

_SEGMENT_RE = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>[^()]*)\))?(?:/(?P<rest>.*))?$")


class DataverseApi:
    """``/api/data/v9.2/…`` — dispatch() never raises; errors become OData error responses."""

    def __init__(self, store: EntityStore, settings: SandboxSettings) -> None:
        self.store = store
        self.settings = settings
        org = settings.organization
        self.organization_id = str(uuid.uuid5(SANDBOX_NAMESPACE, f"dataverse:organization:{org}"))
        self.business_unit_id = str(uuid.uuid5(SANDBOX_NAMESPACE, f"dataverse:businessunit:{org}"))
        self.reads = DataverseReads(store, self.application_user_id)
        self.writes = DataverseWrites(self.reads, self.application_user_id)
        self.batches = BatchRunner(store, self.dispatch)

    # ---------------------------------------------------------------- entry point

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Answer one request; never raises (errors are OData error responses)."""
        try:
            response = self._route(request)
        except ApiError as exc:
            response = exc.to_response()
        except Exception:
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
            return self.batches.run(request)
        if path in ("WhoAmI", "WhoAmI()"):
            if method != "GET":
                raise ApiError(405, E_BAD_REQUEST, "WhoAmI is a function; call it with GET.")
            return self._who_am_i(request)
        if DataverseMetadata.handles(path):
            return DataverseMetadata().answer(request, path)
        if path == "":
            return self._service_document(request)
        if message_name(path) in NOT_EMULATED or message_name(path) == "RetrieveTotalRecordCount":
            return answer_message(self.store, path, request)
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
                return self.reads.count(table)
            if rest is not None and is_bulk_action(rest):
                return run_bulk(self.writes, table, rest, request)
            if rest is not None:
                raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{rest}'.")
            if method == "GET":
                return self.reads.list(table, request)
            if method == "POST":
                return self.writes.create(table, request)
            raise ApiError(
                405, E_BAD_REQUEST, f"The method {method} is not allowed on the '{table.entity_set}' collection."
            )
        named = parse_key(table, key_text)
        if isinstance(named, dict):  # the record named by its alternate key's values
            found = find(self.store, table, named)
            if method == "PATCH" and not rest:
                return self.writes.upsert(table, found or str(uuid.uuid4()), request, key_values=named)
            if found is None:
                raise missing(table)
            named = found
        key = named
        if rest:
            return self._property(table, key, rest, request)
        if method == "GET":
            return self.reads.retrieve(table, key, request)
        if method == "PATCH":
            return self.writes.upsert(table, key, request)
        if method == "DELETE":
            return self.writes.delete(table, key, request)
        raise ApiError(405, E_BAD_REQUEST, f"The method {method} is not allowed on a single {table.logical_name}.")

    def _property(self, table: Table, key: str, rest: str, request: ApiRequest) -> ApiResponse:
        """``accounts(id)/name`` (read one property) and ``…/nav/$ref`` (remove a lookup)."""
        name, _, ref = rest.partition("/")
        found = table.navigation(name)
        if found is not None and ref == "$ref" and request.method.upper() == "DELETE":
            return self.writes.remove_reference(table, key, found[0].value_field)
        if ref or name not in table.properties:
            raise ApiError(404, E_BAD_REQUEST, f"Resource not found for the segment '{rest}'.")
        return self.reads.property(table, key, name, request)

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
