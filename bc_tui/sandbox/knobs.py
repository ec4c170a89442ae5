"""Realism knobs for the two emulated APIs: latency, service-protection limits and faults.

``ServiceKnobs`` is pure ASGI middleware. It applies to the Business Central API
(``/v2.0/…``) and the Dataverse Web API (``/api/data/v9.2/…``) only, never to the token
endpoint. Everything is off by default except Dataverse's ``x-ms-dop-hint`` header, which the
real service always sends.

Per request, in this order: the sliding-window request limit, the concurrency limit (BC queues
up to 95 requests then answers 429; Dataverse answers 429 beyond its cap), latency (while
holding the concurrency slot, as a slow server would), then faults, then the API itself.

A dropped connection cannot be expressed in ASGI directly: the middleware starts a response
and raises ``ConnectionDropped``; uvicorn then closes the socket mid-response (the client sees
``httpx.RemoteProtocolError``) and ``inprocess.asgi_transport`` maps it to the same error.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .settings import SandboxSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BC_PREFIX = "/v2.0/"
DATAVERSE_PREFIX = "/api/data/v9.2/"

#: BC answers 429 once more than this many requests wait for a processing slot.
BC_MAX_QUEUED = 95


class ConnectionDropped(Exception):
    """Raised after a response has started, so that the server closes the connection."""


@dataclass
class _Client:
    """Limit bookkeeping for one caller of one service."""

    recent: deque[float] = field(default_factory=deque)
    active: int = 0
    queue: deque[asyncio.Future[None]] = field(default_factory=deque)


def _service_of(path: str) -> str | None:
    if path.startswith(BC_PREFIX):
        return "bc"
    if path.startswith(DATAVERSE_PREFIX):
        return "dataverse"
    return None


def _error_body(service: str, status: int, message: str, code: str | None = None) -> bytes:
    if code is None:
        code = {
            ("bc", 429): "Application_TooManyRequests",
            ("bc", 503): "ServiceUnavailable",
            ("dataverse", 429): "0x80072322",
            ("dataverse", 503): "0x80040216",
        }.get((service, status), "Error")
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class ServiceKnobs:
    """ASGI middleware adding latency, limits, faults and the DOP hint to the two APIs."""

    def __init__(self, app: ASGIApp, settings: SandboxSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.settings = settings
        self._clock = clock
        self._rng = random.Random(settings.faults.seed)
        self._clients: dict[tuple[str, str], _Client] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = _service_of(scope.get("path", "")) if scope["type"] == "http" else None
        if service is None:
            await self.app(scope, receive, send)
            return
        if service == "dataverse":
            send = self._with_dop_hint(send)
        settings = self.settings
        if not settings.limits:
            await self._process(service, scope, receive, send)
            return

        client = self._clients.setdefault((service, _caller(scope)), _Client())
        retry_after = self._over_window(client)
        if retry_after is not None:
            limit = f"{settings.requests_per_window} over time window of {int(settings.window_s)} seconds"
            await _respond(
                send, 429, _error_body(service, 429, f"Number of requests exceeded the limit of {limit}."), retry_after
            )
            return
        if not await self._acquire(service, client):
            message = (
                f"Too many requests queued: more than {BC_MAX_QUEUED} are waiting."
                if service == "bc"
                else f"Number of concurrent requests exceeded the limit of {settings.dataverse_concurrency}."
            )
            code = None if service == "bc" else "0x80072326"
            await _respond(send, 429, _error_body(service, 429, message, code), 1)
            return
        try:
            await self._process(service, scope, receive, send)
        finally:
            self._release(client)

    # -------------------------------------------------------------- limits

    def _over_window(self, client: _Client) -> int | None:
        """Seconds to wait when this request would exceed the sliding window, else None (and count it)."""
        now = self._clock()
        window = self.settings.window_s
        recent = client.recent
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= self.settings.requests_per_window:
            return max(1, math.ceil(recent[0] + window - now))
        recent.append(now)
        return None

    async def _acquire(self, service: str, client: _Client) -> bool:
        """Take a processing slot; False when the service would answer 429 instead."""
        cap = self.settings.bc_concurrency if service == "bc" else self.settings.dataverse_concurrency
        if client.active < cap and not client.queue:
            client.active += 1
            return True
        if service == "dataverse" or len(client.queue) >= BC_MAX_QUEUED:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        client.queue.append(waiter)
        try:
            await waiter  # _release hands its slot over, so `active` stays counted
        except BaseException:
            if waiter in client.queue:
                client.queue.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self._release(client)  # we were handed a slot but are leaving: pass it on
            raise
        return True

    def _release(self, client: _Client) -> None:
        while client.queue:
            waiter = client.queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        client.active -= 1

    # ------------------------------------------------------ latency, faults

    async def _process(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.settings
        if settings.latency_ms > 0:
            await asyncio.sleep(settings.latency_ms / 1000)
        faults = settings.faults
        if not faults.any:
            await self.app(scope, receive, send)
            return
        roll = self._rng.random()
        if roll < faults.throttle:
            await _respond(send, 429, _error_body(service, 429, "Too many requests (injected fault)."), 1)
            return
        roll -= faults.throttle
        if roll < faults.unavailable:
            await _respond(
                send, 503, _error_body(service, 503, "The service is temporarily unavailable (injected fault).")
            )
            return
        roll -= faults.unavailable
        if roll < faults.drop:
            await _drop(send)
        roll -= faults.drop
        if roll < faults.lost:
            await self.app(scope, receive, _discard)
            await _drop(send)
        await self.app(scope, receive, send)

    def _with_dop_hint(self, send: Send) -> Send:
        hint = str(self.settings.dop_hint).encode()

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), (b"x-ms-dop-hint", hint)]
            await send(message)

        return sender


def _caller(scope: Scope) -> str:
    """Who is calling: the bearer token stands for the user (limits are per user)."""
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    for name, value in headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return ""


async def _respond(send: Send, status: int, body: bytes, retry_after: int | None = None) -> None:
    headers = [
        (b"content-type", b"application/json; odata.metadata=minimal"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _discard(message: Message) -> None:
    """A ``send`` that throws the response away (the ``lost`` fault)."""


async def _drop(send: Send) -> None:
    # Promise a body that never comes, then make the server abort the connection.
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"64")]})
    raise ConnectionDropped("connection dropped (injected fault)")
