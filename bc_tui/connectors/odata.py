"""The shared OData layer: one ``ODataService`` per service and base URL.

It owns what both services have in common: the HTTP client, the bearer token (with one retry on
401), the concurrency cap, the pacing to the request window and the 429 pause gate, retries with
backoff (tenacity), paging by ``@odata.nextLink``, ETag-guarded writes, and turning every failure
into a ``ConnectorError``.

Retries and idempotency. A failed attempt is classified as

* *not processed*: 429, 503, or the connection could not be opened: retrying is always safe;
* *outcome unknown*: the connection broke after the request was sent, a timeout, 408, 502,
  504: the write may have committed. Reads are retried. Writes are retried only when a retry
  cannot duplicate or overwrite: ``create`` with a ``reconcile`` function (called before
  re-posting to find the record the lost attempt created), ``update`` with an ETag (a 412 after
  an unknown outcome is checked against the values we wrote), ``delete`` with an ETag (a 404
  after an unknown outcome means our delete went through).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack

import httpx

from .answers import DUPLICATE_CODES, Operation, connect_cause, error_from, holds_values, retry_after_seconds
from .auth import ShowDeviceCode, TokenProvider
from .credentials import ServiceCredentials, check_url
from .errors import (
    AlreadyExists,
    ConnectionLost,
    MalformedResponse,
    TimedOut,
    Unreachable,
)
from .guard import DEFAULT_DEADLINE_S, DEFAULT_MAX_BODY_BYTES, BodyTooLarge, CappedTransport, server_words
from .retry import AttemptState, RetryPolicy, retrying_for
from .throttle import DOCUMENTED_WINDOW, ConcurrencyLimiter, PauseGate, RequestPacer, RequestWindow

T = TypeVar("T")
Row = dict[str, Any]

#: Re-exported: callers import these from here.
__all__ = [
    "DUPLICATE_CODES",
    "AttemptState",
    "ODataService",
    "RetryPolicy",
    "Row",
    "error_from",
    "holds_values",
    "retry_after_seconds",
    "with_query",
]


class ServiceOptions(TypedDict, total=False):
    """The settings of an :class:`ODataService` that the clients of both services pass through
    unchanged (see the fields of ODataService)."""

    transport: httpx.AsyncBaseTransport | None
    retry: RetryPolicy
    timeout_s: float
    deadline_s: float
    show_device_code: ShowDeviceCode | None
    request_window: RequestWindow


class RequestParts(TypedDict, total=False):
    """What a request carries besides its method and path: the query, extra headers and a body
    (``json`` or raw ``content``)."""

    params: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    json: Any
    content: bytes | None


@dataclass
class ODataService:
    """One OData service endpoint: ``base_url`` ends with ``/`` (e.g. ``…/api/data/v9.2/``)."""

    name: str
    base_url: str
    credentials: ServiceCredentials
    transport: httpx.AsyncBaseTransport | None = None
    max_concurrency: int = 5
    #: Follow Dataverse's ``x-ms-dop-hint``, never above ``max_concurrency_hint``.
    follow_dop_hint: bool = False
    max_concurrency_hint: int = 16
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 120.0
    #: The longest one request may take, answer included (httpx's timeout is per read only).
    deadline_s: float = DEFAULT_DEADLINE_S
    #: The most bytes one answer may have; a larger or endless body is cut off.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Shows a person where to sign in with which code (device code sign-in only).
    show_device_code: ShowDeviceCode | None = None
    #: The service's request limit per user, which the client paces itself below.
    request_window: RequestWindow = DOCUMENTED_WINDOW

    def __post_init__(self) -> None:
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self._base = check_url(self.base_url, what=self.name, in_process=self.transport is not None)
        self.tokens = TokenProvider(
            self.credentials,
            service=self.name,
            transport=self.transport,
            deadline_s=self.deadline_s,
            show_device_code=self.show_device_code,
        )
        self.limiter = ConcurrencyLimiter(self.max_concurrency)
        self.gate = PauseGate()
        self.pacer = RequestPacer(self.request_window)
        self.http = httpx.AsyncClient(
            transport=CappedTransport(
                self.transport,
                limit=self.max_body_bytes,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            ),
            timeout=httpx.Timeout(self.timeout_s, connect=15.0),
            headers={"Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0", **self.headers},
            follow_redirects=False,
        )
        #: Retries performed (diagnostics, tests).
        self.retries = 0

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        await self.http.aclose()
        await self.tokens.aclose()

    # --- URLs ------------------------------------------------------------------------------

    def url(self, path: str) -> httpx.URL:
        """``path`` relative to the base URL; an absolute URL must be on the same origin."""
        url = self._base.join(path)
        if (url.scheme, url.host, url.port) != (self._base.scheme, self._base.host, self._base.port):
            # Never send our bearer token to another host, whatever a nextLink says.
            raise MalformedResponse(
                f"{self.name} sent a link to another host ({server_words(url.host, limit=80)}); "
                "check the URL in your profile."
            )
        return url

    # --- one attempt -----------------------------------------------------------------------

    async def send(
        self, method: str, path: str | httpx.URL, *, operation: Operation = "read", **parts: Unpack[RequestParts]
    ) -> httpx.Response:
        """One attempt: wait for the gate, a slot and the pace, send with a token, retry once on 401.

        Transport failures become Unreachable (not sent) or ConnectionLost (sent, no answer);
        the response is returned whatever its status.
        """
        url = path if isinstance(path, httpx.URL) else self.url(path)
        params, headers, json, content = (
            parts.get("params"),
            parts.get("headers"),
            parts.get("json"),
            parts.get("content"),
        )
        if params:
            url = with_query(url, params)
        await self.gate.wait()
        async with self.limiter:
            token = await self.tokens.token()
            sent_at = await self._paced()
            response = await self._transmit(method, url, token, headers, json, content, operation)
            if response.status_code == 401:
                # Rejected before processing: a fresh token and exactly one more try.
                self.tokens.invalidate(token)
                token = await self.tokens.token()
                sent_at = await self._paced()
                response = await self._transmit(method, url, token, headers, json, content, operation)
        self._observe(response, sent_at)
        return response

    async def _paced(self) -> float:
        """Wait for the request window's pace and an open gate; the gate's clock at sending.

        The turn is taken while holding the slot, right before sending: taken earlier, requests
        queued for a slot would go out bunched and break the pace. (A pause that begins meanwhile
        delays at most the requests holding a slot: the pacer's margin covers them.)
        """
        await self.pacer.take()
        await self.gate.wait()
        return self.gate.clock

    async def _transmit(
        self,
        method: str,
        url: httpx.URL,
        token: str,
        headers: Mapping[str, str] | None,
        json: Any,
        content: bytes | None,
        operation: Operation,
    ) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        try:
            async with asyncio.timeout(self.deadline_s):
                response = await self.http.request(method, url, headers=all_headers, json=json, content=content)
                await response.aread()
            return response
        except TimeoutError:
            maybe = "" if operation == "read" else ", so the change may or may not have been saved"
            raise TimedOut(
                f"{self.name} at {url.host} did not finish answering within {self.deadline_s:g} seconds{maybe}; "
                "try again later, or raise request_deadline_s in your config if the service is just slow."
            ) from None
        except BodyTooLarge:
            raise MalformedResponse(
                f"{self.name} at {url.host} sent an answer larger than {self.max_body_bytes:,} bytes, so "
                f"bc-tui stopped reading it; check the {self.name} URL in your profile."
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Unreachable(
                f"Cannot reach {url.host}: {connect_cause(exc)}. Check the {self.name} URL in your profile "
                "and your network."
            ) from None
        except httpx.TransportError as exc:
            if operation == "read":
                msg = (
                    f"The connection to {url.host} broke before {self.name} answered ({type(exc).__name__}); "
                    "try again in a moment."
                )
            else:
                msg = (
                    f"The connection to {url.host} broke before {self.name} answered ({type(exc).__name__}), "
                    "so the change may or may not have been saved; reload the record and check before "
                    "trying again."
                )
            raise ConnectionLost(msg) from None

    def _observe(self, response: httpx.Response, sent_at: float) -> None:
        """Learn from every answer: 429 closes the gate, Dataverse's DOP hint sizes the cap."""
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers)
            self.gate.pause(self.retry.default_retry_after_s if wait is None else wait, sent_at=sent_at)
        if self.follow_dop_hint:
            hint = response.headers.get("x-ms-dop-hint")
            if hint and hint.isdigit():
                self.limiter.resize(min(int(hint), self.max_concurrency_hint))

    def raise_for(self, response: httpx.Response, *, record: str | None, operation: Operation) -> None:
        """Raise the ConnectorError for an error answer (status >= 400)."""
        if response.status_code < 400:
            return
        try:
            payload = response.json()
        except ValueError:
            payload = None
        raise error_from(
            self.name,
            response.status_code,
            payload,
            record=record,
            operation=operation,
            headers=response.headers,
            secrets=(self.credentials.client_secret, self.tokens.current or ""),
        )

    def parse_json(self, response: httpx.Response, *, what: str) -> Any:
        """The body as JSON, or MalformedResponse."""
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise MalformedResponse(
                f"{self.name} answered {what} with something that is not JSON ({kind}, HTTP "
                f"{response.status_code}); check the {self.name} URL in your profile."
            ) from None

    # --- retries ---------------------------------------------------------------------------

    async def run(self, attempt: Callable[[AttemptState], Awaitable[T]], *, idempotent: bool) -> T:
        """Call ``attempt`` until it succeeds or the retry policy gives up.

        Not-processed failures are always retried; unknown-outcome failures only when
        ``idempotent``. ``AttemptState.maybe_committed`` tells later attempts to reconcile.
        """
        state = AttemptState()

        def count_retry() -> None:
            self.retries += 1

        retrying = retrying_for(self.retry, state, idempotent=idempotent, on_retry=count_retry)
        async for try_ in retrying:
            with try_:
                state.number = try_.retry_state.attempt_number
                return await attempt(state)
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover

    async def request(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        record: str | None = None,
        operation: Operation = "read",
        idempotent: bool = True,
        **parts: Unpack[RequestParts],
    ) -> httpx.Response:
        """Send with retries; return the successful response, raise ConnectorError otherwise."""

        async def attempt(state: AttemptState) -> httpx.Response:
            response = await self.send(method, path, operation=operation, **parts)
            self.raise_for(response, record=record, operation=operation)
            return response

        return await self.run(attempt, idempotent=idempotent)

    # --- reads -----------------------------------------------------------------------------

    async def get_json(
        self,
        path: str | httpx.URL,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        record: str | None = None,
    ) -> Any:
        """GET and parse JSON (retried)."""
        response = await self.request("GET", path, params=params, headers=headers, record=record)
        return self.parse_json(response, what=f"a read of {record or path}")

    async def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = 1000,
        what: str = "records",
    ) -> AsyncIterator[list[Row]]:
        """Yield the rows of a collection page by page, following ``@odata.nextLink`` unchanged."""
        headers = {"Prefer": f"odata.maxpagesize={int(page_size)}"}
        url: str | httpx.URL = path
        query: Mapping[str, Any] | None = {k: v for k, v in (params or {}).items() if v is not None}
        while True:
            payload = await self.get_json(url, params=query, headers=headers, record=what)
            yield self.value_rows(payload, what)
            next_link = payload.get("@odata.nextLink")
            if next_link is None:
                return
            if not isinstance(next_link, str) or not next_link:
                raise MalformedResponse(f"{self.name} sent an unusable next-page link for {what}.")
            url = self.url(next_link)
            query = None  # the link carries the whole query: follow it unchanged

    def value_rows(self, payload: Any, what: str) -> list[Row]:
        """The ``value`` list of one page of a collection (MalformedResponse when it has none)."""
        rows = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise MalformedResponse(
                f"{self.name} answered a list of {what} without a 'value' list; check the {self.name} "
                "URL in your profile."
            )
        return rows

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None, record: str | None = None) -> Row:
        """GET one entity."""
        response = await self.request("GET", path, params=params, record=record)
        row = self.parse_json(response, what=f"a read of {record or path}")
        if not isinstance(row, dict):
            raise MalformedResponse(
                f"{self.name} answered a read of {record or path} with something that is not a record."
            )
        return row

    # --- writes ----------------------------------------------------------------------------

    async def create(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        record: str | None = None,
        reconcile: Callable[[], Awaitable[Row | None]] | None = None,
    ) -> Row:
        """POST a new entity and return it as stored.

        ``reconcile`` finds the record a lost earlier attempt may have created (by its
        client-generated key or its number); with it, the create is retried after an unknown
        outcome and a duplicate-key answer on a retry is resolved to the existing record.
        Without it, only failures that prove nothing was stored are retried.
        """

        async def attempt(state: AttemptState) -> Row:
            if state.maybe_committed and reconcile is not None:
                existing = await reconcile()
                if existing is not None:
                    return existing
            response = await self.send(
                "POST", path, json=dict(body), operation="create", headers={"Prefer": "return=representation"}
            )
            if response.status_code >= 400 and state.maybe_committed and reconcile is not None:
                try:
                    self.raise_for(response, record=record, operation="create")
                except AlreadyExists:
                    existing = await reconcile()
                    if existing is not None:
                        return existing
                    raise
            self.raise_for(response, record=record, operation="create")
            return await self._written_row(response, record=record)

        return await self.run(attempt, idempotent=reconcile is not None)

    async def update(
        self,
        path: str,
        changes: Mapping[str, Any],
        *,
        if_match: str,
        record: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Row:
        """PATCH with ``If-Match`` and return the record as stored.

        A 412 after an attempt whose outcome is unknown is checked: when the record now holds
        exactly the values we wrote, our earlier attempt committed and this is success.
        """
        if not if_match:
            raise ValueError("update needs the ETag the change was based on (or '*')")
        headers = {"If-Match": if_match, "Prefer": "return=representation", **(extra_headers or {})}

        async def attempt(state: AttemptState) -> Row:
            response = await self.send("PATCH", path, json=dict(changes), headers=headers, operation="update")
            if response.status_code == 412 and state.maybe_committed:
                current = await self.get(path, record=record)
                if current is not None and holds_values(current, changes):
                    return current
            self.raise_for(response, record=record, operation="update")
            return await self._written_row(response, record=record, fallback_path=path)

        return await self.run(attempt, idempotent=True)

    async def delete(self, path: str, *, if_match: str, record: str | None = None) -> None:
        """DELETE with ``If-Match``; a 404 after an unknown-outcome attempt means it went through."""
        if not if_match:
            raise ValueError("delete needs the ETag the decision was based on (or '*')")

        async def attempt(state: AttemptState) -> None:
            response = await self.send("DELETE", path, headers={"If-Match": if_match}, operation="delete")
            if response.status_code == 404 and state.maybe_committed:
                return
            self.raise_for(response, record=record, operation="delete")

        await self.run(attempt, idempotent=True)

    async def _written_row(
        self, response: httpx.Response, *, record: str | None, fallback_path: str | None = None
    ) -> Row:
        """The row a write answered with, or (204) read back from ``OData-EntityId``/``fallback_path``."""
        if response.status_code != 204 and response.content:
            row = self.parse_json(response, what=f"a write of {record or 'a record'}")
            if isinstance(row, dict):
                return row
            raise MalformedResponse(
                f"{self.name} answered a write of {record or 'a record'} with something that is not a record."
            )
        location = response.headers.get("OData-EntityId") or response.headers.get("Location") or fallback_path
        if not location:
            raise MalformedResponse(f"{self.name} did not say where it stored {record or 'the record'}.")
        row = await self.get(location, record=record)
        assert row is not None
        return row


def with_query(url: httpx.URL, params: Mapping[str, Any]) -> httpx.URL:
    """``url`` with ``params`` added, spaces as ``%20`` (OData servers differ on ``+``)."""
    extra = urllib.parse.urlencode(
        {k: str(v) for k, v in params.items() if v is not None}, quote_via=urllib.parse.quote, safe="$,()"
    )
    if not extra:
        return url
    query = url.query.decode("ascii")
    return url.copy_with(query=(query + "&" + extra if query else extra).encode("ascii"))
