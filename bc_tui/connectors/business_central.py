"""Business Central API v2.0 client: customers and contacts of one company, and JSON ``$batch``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, Unpack

from .batch import BatchOperation, BatchResult
from .credentials import ServiceCredentials
from .entity_client import EntityClient
from .errors import ConnectorError, MalformedResponse
from .filters import eq
from .models import BcEntity
from .odata import ODataService, Row, ServiceOptions, error_from, holds_values
from .schema import FieldInfo, parse_bc_fields

B = TypeVar("B", bound=BcEntity)

SERVICE = "Business Central"
#: Business Central accepts at most 100 operations per $batch.
MAX_BATCH = 100
#: Business Central processes 5 requests per user at once; more only queue on its side.
CONCURRENCY = 5


class BusinessCentralClient(EntityClient):
    """Customers and contacts of one Business Central company.

    ``base_url`` is the API root, e.g.
    ``https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0/``.
    ``transport`` replaces the network (tests: the in-process sandbox).
    """

    def __init__(
        self,
        base_url: str,
        company_id: str,
        credentials: ServiceCredentials,
        **options: Unpack[ServiceOptions],
    ) -> None:
        service = ODataService(SERVICE, base_url, credentials, max_concurrency=CONCURRENCY, **options)
        super().__init__(service, root=f"companies({company_id})/")
        self.company_id = company_id
        self._metadata: bytes | None = None

    async def fields(self, entity_set: str) -> dict[str, FieldInfo]:
        """The properties of ``entity_set`` (``customers``…) as ``$metadata`` describes them.

        The document is read once per client (one session) and kept: it describes every API
        page, and a tenant's pages do not change while bc-tui runs.
        """
        if self._metadata is None:
            response = await self.service.request(
                "GET", "$metadata", headers={"Accept": "application/xml"}, record="$metadata"
            )
            self._metadata = response.content
        return parse_bc_fields(self._metadata, entity_set, service=SERVICE)

    async def __aenter__(self) -> BusinessCentralClient:
        return self

    async def companies(self) -> list[Row]:
        """The companies of the environment (``id``, ``name``, ``displayName`` …)."""
        rows: list[Row] = []
        async for page in self.service.iter_pages("companies", what="companies"):
            rows.extend(page)
        return rows

    async def page(
        self,
        kind: type[B],
        *,
        top: int,
        skip: int = 0,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        orderby: str | None = None,
    ) -> list[B]:
        """Rows ``skip`` … ``skip + top - 1`` of ``kind`` in ``orderby`` order: one request.

        Business Central honours ``$skip``, so a list can read any page directly (Dataverse
        cannot: see ``DataverseClient.page``)."""
        params = self._query(kind, {"filter": filter, "select": select, "orderby": orderby, "top": top})
        params["$skip"] = int(skip)
        answer = await self.service.get_json(self.path(kind), params=params, record=f"{kind.NOUN}s")
        return [kind.take_row(row) for row in self.service.value_rows(answer, f"{kind.NOUN}s")]

    async def find_by_number(self, kind: type[B], number: str) -> B | None:
        """The customer/contact with this ``number``, or None."""
        return await self.find_one(kind, eq("number", number))

    async def create(self, kind: type[B], data: Mapping[str, Any]) -> B:
        """Create a customer/contact; the id is assigned by Business Central.

        With a ``number``, a create whose answer was lost is reconciled by looking the number
        up before posting again (so it is never created twice). Without one, Business Central
        assigns the number and the create is not retried after an unknown outcome.
        """
        number = data.get("number")
        record = f"{kind.NOUN} {number or data.get('displayName') or '(new)'}"

        async def reconcile() -> Row | None:
            found = await self.find_by_number(kind, str(number))
            if found is None:
                return None
            if not holds_values(found.data, {k: data[k] for k in ("number", "displayName") if k in data}):
                return None  # someone else's record with that number: the POST reports the duplicate
            return {**found.data, "@odata.etag": found.etag}

        return await self._create(kind, data, record=record, reconcile=reconcile if number else None)

    async def batch(
        self, operations: Sequence[BatchOperation], *, isolation_snapshot: bool = False
    ) -> list[BatchResult]:
        """Run ``operations`` as JSON ``$batch`` requests of at most 100; results in the same order.

        ``isolation_snapshot`` makes each chunk of 100 all-or-nothing (never across chunks).
        A batch is retried only when it certainly was not processed (429, 503, no connection),
        unless it only reads.
        """
        results: list[BatchResult] = []
        for start in range(0, len(operations), MAX_BATCH):
            results.extend(await self._batch_chunk(operations[start : start + MAX_BATCH], isolation_snapshot))
        return results

    async def _batch_chunk(self, operations: Sequence[BatchOperation], snapshot: bool) -> list[BatchResult]:
        requests = []
        for index, op in enumerate(operations, start=1):
            request: dict[str, Any] = {"id": str(index), "method": op.method, "url": self._root + op.path}
            headers = dict(op.headers)
            if op.body is not None:
                headers.setdefault("Content-Type", "application/json")
                request["body"] = dict(op.body)
            if headers:
                request["headers"] = headers
            requests.append(request)
        headers = {"Content-Type": "application/json"}
        if snapshot:
            headers["Isolation"] = "snapshot"
        response = await self.service.request(
            "POST",
            "$batch",
            json={"requests": requests},
            headers=headers,
            operation="batch",
            record="a batch of changes",
            idempotent=all(op.method == "GET" for op in operations),
        )
        payload = self.service.parse_json(response, what="a batch")
        answers = payload.get("responses") if isinstance(payload, dict) else None
        if not isinstance(answers, list):
            raise MalformedResponse(f"{SERVICE} answered a batch without a 'responses' list.")
        by_id = {str(a.get("id")): a for a in answers if isinstance(a, dict)}
        results = []
        for index, op in enumerate(operations, start=1):
            answer = by_id.get(str(index))
            if answer is None:
                results.append(
                    BatchResult(
                        None,
                        error=ConnectorError(
                            f"{SERVICE} did not process the {op.operation} of {op.record or 'a record'} in the batch; "
                            "run the job again."
                        ),
                    )
                )
                continue
            results.append(_result(answer, op))
        if snapshot and not all(result.ok for result in results):
            # BC rolls the whole batch back yet answers each operation with the status it had when it
            # ran (docs/sandbox-fidelity.md, "Business Central API v2.0"): a 201 or 204 here saved nothing.
            results = [
                result if not result.ok else _rolled_back(op) for result, op in zip(results, operations, strict=True)
            ]
        return results


def _rolled_back(op: BatchOperation) -> BatchResult:
    """An operation of a snapshot batch that succeeded but was undone with a failed one."""
    return BatchResult(None, error=error_from(SERVICE, 424, None, record=op.record, operation=op.operation))  # type: ignore[arg-type]


def _result(answer: Mapping[str, Any], op: BatchOperation) -> BatchResult:
    status = answer.get("status")
    if not isinstance(status, int):
        return BatchResult(
            None,
            error=MalformedResponse(f"{SERVICE} answered the batch without a status for {op.record or 'a record'}."),
        )
    headers = {str(k).lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
    body = answer.get("body")
    error = None
    if status >= 400:
        error = error_from(
            SERVICE,
            status,
            body,
            record=op.record,
            operation=op.operation,  # type: ignore[arg-type]
            headers=headers,
        )
    return BatchResult(status, body, headers, error)
