"""Helpers of the connector tests: a sandbox endpoint as a client sees it, and network scaffolding."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bc_tui.connectors import BusinessCentralClient, DataverseClient, RetryPolicy, ServiceCredentials
from bc_tui.sandbox.app import create_app, sandbox_info
from bc_tui.sandbox.inprocess import ORIGIN, asgi_transport
from bc_tui.sandbox.server import start_in_thread
from bc_tui.sandbox.settings import SandboxSettings

#: Retries as the product does them, only with short backoff so the tests stay quick.
FAST_RETRY = RetryPolicy(
    max_attempts=10, max_total_s=30.0, initial_backoff_s=0.01, max_backoff_s=0.05, default_retry_after_s=0.05
)


@dataclass
class Endpoint:
    """One running sandbox as a client sees it."""

    kind: str
    info: dict[str, Any]
    app: Any
    #: None over loopback: the connectors then use the real network stack.
    transport: httpx.AsyncBaseTransport | None

    def bc_credentials(self, **override: str) -> ServiceCredentials:
        return _credentials(self.info, self.info["bc_scope"], override)

    def dv_credentials(self, **override: str) -> ServiceCredentials:
        return _credentials(self.info, self.info["dataverse_scope"], override)

    def bc(self, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> BusinessCentralClient:
        kwargs.setdefault("retry", FAST_RETRY)
        return BusinessCentralClient(
            self.info["bc_api"],
            self.info["company_id"],
            self.bc_credentials(),
            transport=transport or self.transport,
            **kwargs,
        )

    def dv(self, *, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> DataverseClient:
        kwargs.setdefault("retry", FAST_RETRY)
        return DataverseClient(
            self.info["dataverse_api"], self.dv_credentials(), transport=transport or self.transport, **kwargs
        )

    def wire(self) -> httpx.AsyncBaseTransport:
        """A transport to this sandbox to wrap in network scaffolding (a real socket over loopback)."""
        return self.transport if self.transport is not None else httpx.AsyncHTTPTransport()

    def store_rows(self, entity_set: str) -> list[dict[str, Any]]:
        """Rows as the sandbox holds them (``bc/customers``, ``dv/accounts`` …), bypassing the API."""
        return list(self.app.state.store.rows(entity_set))


def _credentials(info: dict[str, Any], scope: str, override: dict[str, str]) -> ServiceCredentials:
    values = {
        "token_url": info["token_url"],
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "scope": scope,
        **override,
    }
    return ServiceCredentials(**values)


@contextlib.contextmanager
def open_endpoint(kind: str, settings: SandboxSettings) -> Iterator[Endpoint]:
    """A fresh sandbox with ``settings``, reached ``in-process`` or over ``loopback``."""
    if kind == "in-process":
        app = create_app(settings)
        yield Endpoint(kind, sandbox_info(settings, ORIGIN), app, asgi_transport(app))
    else:
        with start_in_thread(settings) as running:
            yield Endpoint(kind, running.info, running.app, None)


class LoseResponses(httpx.AsyncBaseTransport):
    """Network scaffolding: deliver matching requests to the server, then lose the answer.

    ``before_loss`` runs after the server has processed the request and before the client sees the
    broken connection (e.g. to let another user change the record in between).
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        match: Callable[[httpx.Request], bool],
        times: int = 1,
        before_loss: Callable[[], Any] | None = None,
    ) -> None:
        self._inner = inner
        self._match = match
        self.remaining = times
        self._before_loss = before_loss

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self.remaining > 0 and self._match(request):
            self.remaining -= 1
            await response.aread()
            if self._before_loss is not None:
                await self._before_loss()
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
