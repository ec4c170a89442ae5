"""Dataverse Web API v9.2 client: accounts and contacts, multipart ``$batch``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, Unpack

from .batch import BatchOperation, BatchResult, entity_path
from .credentials import ServiceCredentials
from .entity_client import EntityClient
from .errors import ConnectorError, MalformedResponse
from .models import DataverseAccount, DataverseEntity, Entity
from .multipart import HttpPart, MultipartError, ResponsePart, parse_batch, render_batch
from .odata import ODataService, Row, ServiceOptions, error_from
from .schema import ATTRIBUTE_SELECT, FieldInfo, parse_dataverse_fields

D = TypeVar("D", bound=DataverseEntity)

SERVICE = "Dataverse"
#: Dataverse accepts at most 1,000 requests per $batch.
MAX_BATCH = 1000


@dataclass(frozen=True)
class Page(Generic[D]):
    """One page of a Dataverse read: its rows and the link that reads the next page (None: last)."""

    rows: list[D]
    next_link: str | None
    count: int | None = None  # ``@odata.count`` when asked for: every matching row, at most COUNT_LIMIT


def bind(kind: type[Entity], key: str) -> str:
    """The value of an ``…@odata.bind`` property: ``/accounts(<id>)``."""
    return "/" + entity_path(kind, key)


def parent_account(account_id: str) -> dict[str, str]:
    """The field that sets a contact's parent account (its company)."""
    return {"parentcustomerid_account@odata.bind": bind(DataverseAccount, account_id)}


class DataverseClient(EntityClient):
    """Accounts and contacts of one Dataverse environment.

    ``base_url`` is the Web API root, e.g. ``https://{org}.crm.dynamics.com/api/data/v9.2/``.
    ``max_concurrency`` is where the concurrency cap starts; it then follows Dataverse's
    ``x-ms-dop-hint`` but never above ``max_concurrency_hint``.
    """

    def __init__(
        self,
        base_url: str,
        credentials: ServiceCredentials,
        *,
        max_concurrency: int = 4,
        max_concurrency_hint: int = 16,
        **options: Unpack[ServiceOptions],
    ) -> None:
        service = ODataService(
            SERVICE,
            base_url,
            credentials,
            max_concurrency=max_concurrency,
            follow_dop_hint=True,
            max_concurrency_hint=max_concurrency_hint,
            **options,
        )
        super().__init__(service)
        self._fields: dict[str, dict[str, FieldInfo]] = {}

    async def fields(self, entity_set: str) -> dict[str, FieldInfo]:
        """The columns of the table behind ``entity_set`` (``accounts``…): one request, kept per client."""
        if entity_set not in self._fields:
            quoted = entity_set.replace("'", "''")
            params = {
                "$filter": f"EntitySetName eq '{quoted}'",
                "$select": "LogicalName",
                "$expand": f"Attributes($select={','.join(ATTRIBUTE_SELECT)})",
            }
            payload = await self.service.get_json(
                "EntityDefinitions", params=params, record=f"the columns of {entity_set}"
            )
            self._fields[entity_set] = parse_dataverse_fields(payload, entity_set, service=SERVICE)
        return self._fields[entity_set]

    async def __aenter__(self) -> DataverseClient:
        return self

    async def who_am_i(self) -> Row:
        """``{"UserId", "BusinessUnitId", "OrganizationId"}`` of the signed-in application user."""
        payload = await self.service.get_json("WhoAmI", record="WhoAmI")
        if not isinstance(payload, dict) or "UserId" not in payload:
            raise MalformedResponse(f"{SERVICE} answered WhoAmI without a UserId; check the URL in your profile.")
        return payload

    #: Dataverse's ``$count`` stops here: a count this high means "at least this many".
    COUNT_LIMIT = 5000

    async def page(
        self,
        kind: type[D],
        *,
        page_size: int,
        next_link: str | None = None,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        orderby: str | None = None,
        count: bool = False,
    ) -> Page[D]:
        """The first page of ``kind`` (``filter``/``select``/``orderby``), or the page
        ``next_link`` (from an earlier :class:`Page`) reads; ``page_size`` rows at most.
        ``count`` asks the first page for ``$count=true``: how many rows match in all.

        Dataverse has no ``$skip``: a list reaches page n by following the links of the pages
        before it, and keeps the links to go back with one request."""
        headers = {"Prefer": f"odata.maxpagesize={int(page_size)}"}
        if next_link is None:
            url: Any = self.path(kind)
            params: dict[str, Any] | None = self._query(kind, {"filter": filter, "select": select, "orderby": orderby})
            if count and params is not None:
                params["$count"] = "true"
        else:  # the link carries the whole query: follow it unchanged
            url, params = self.service.url(next_link), None
        answer = await self.service.get_json(url, params=params, headers=headers, record=f"{kind.NOUN}s")
        rows = self.service.value_rows(answer, f"{kind.NOUN}s")
        link = answer.get("@odata.nextLink")
        total = answer.get("@odata.count")
        return Page(
            [kind.take_row(row) for row in rows],
            link if isinstance(link, str) and link else None,
            total if isinstance(total, int) and not isinstance(total, bool) else None,
        )

    async def create(self, kind: type[D], data: Mapping[str, Any]) -> D:
        """Create a row; its key is generated here when ``data`` has none.

        Because the key is ours, a create whose answer was lost is retried safely: the retry
        first looks the key up, and a duplicate-key answer resolves to the row already stored.
        """
        body = dict(data)
        key = str(body.get(kind.KEY) or uuid.uuid4())
        body[kind.KEY] = key
        record = f"{kind.NOUN} {_name_of(body) or key}"

        async def reconcile() -> Row | None:
            try:
                return await self.service.get(self.path(kind, key), record=record)
            except ConnectorError as exc:
                if exc.status == 404:
                    return None
                raise

        return await self._create(kind, body, record=record, reconcile=reconcile)

    async def batch(
        self, operations: Sequence[BatchOperation], *, change_set: bool = True, continue_on_error: bool = False
    ) -> list[BatchResult]:
        """Run ``operations`` as multipart ``$batch`` requests of at most 1,000; results in order.

        ``change_set`` makes each chunk atomic (reads are not allowed in it); otherwise
        ``continue_on_error`` keeps going after a failed operation. Retried only when it certainly
        was not processed (429, 503, no connection), unless it only reads.
        """
        if change_set and any(op.method == "GET" for op in operations):
            raise ValueError("a change set cannot contain reads; use change_set=False")
        results: list[BatchResult] = []
        for start in range(0, len(operations), MAX_BATCH):
            chunk = operations[start : start + MAX_BATCH]
            results.extend(await self._batch_chunk(chunk, change_set, continue_on_error))
        return results

    async def _batch_chunk(
        self, operations: Sequence[BatchOperation], change_set: bool, continue_on_error: bool
    ) -> list[BatchResult]:
        parts = [
            HttpPart(
                op.method,
                str(self.service.url(op.path)),
                op.headers,
                op.body,
                content_id=str(index) if change_set else None,
            )
            for index, op in enumerate(operations, start=1)
        ]
        content_type, body = render_batch([parts] if change_set else parts)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if continue_on_error and not change_set:
            headers["Prefer"] = "odata.continue-on-error"
        response = await self.service.request(
            "POST",
            "$batch",
            content=body,
            headers=headers,
            operation="batch",
            record="a batch of changes",
            idempotent=all(op.method == "GET" for op in operations),
        )
        try:
            answers = parse_batch(response.headers.get("content-type", ""), response.content)
        except MultipartError as exc:
            raise MalformedResponse(f"{SERVICE} answered a batch with a body bc-tui cannot read ({exc}).") from None
        return _match(operations, answers, change_set)


def _match(operations: Sequence[BatchOperation], answers: list[ResponsePart], change_set: bool) -> list[BatchResult]:
    """Pair each operation with its answer (by Content-ID in a change set, else by position)."""
    results: list[BatchResult | None] = [None] * len(operations)
    if change_set:
        for position, answer in enumerate(answers):
            content_id = answer.content_id or ""
            index = int(content_id) - 1 if content_id.isdigit() else position
            if 0 <= index < len(operations):
                results[index] = _result(answer, operations[index])
        failed = any(r is not None and not r.ok for r in results)
        why = (
            "was not saved because another change in the same batch failed; fix that one and run the job again"
            if failed
            else "got no answer in the batch; reload it and check"
        )
    else:
        for index, answer in enumerate(answers[: len(operations)]):
            results[index] = _result(answer, operations[index])
        why = "was not processed because an earlier operation in the batch failed; run the job again"
    return [
        r
        if r is not None
        else BatchResult(
            None, error=ConnectorError(f"The {op.operation} of {op.record or 'a record'} in {SERVICE} {why}.")
        )
        for r, op in zip(results, operations, strict=True)
    ]


def _result(answer: ResponsePart, op: BatchOperation) -> BatchResult:
    try:
        payload = answer.json()
    except ValueError:
        payload = None
    error = None
    if answer.status >= 400:
        error = error_from(
            SERVICE,
            answer.status,
            payload,
            record=op.record,
            operation=op.operation,  # type: ignore[arg-type]
            headers=answer.headers,
        )
    return BatchResult(answer.status, payload, answer.headers, error)


def _name_of(data: Mapping[str, Any]) -> str:
    if data.get("name"):
        return str(data["name"])
    return " ".join(str(data[k]) for k in ("firstname", "lastname") if data.get(k))
