"""The HTTP ``Date`` header on every answer, as the real services send it.

An origin server with a clock must send ``Date`` (RFC 9110 §6.6.1): whole seconds, GMT, the
time the answer was made. Clients use it as the *server's* clock: ``sync --modified`` takes the
time a pass started from it, never from its own clock, because modified times are stamped by
the service. uvicorn would add one over a socket, but the in-process ASGI transport the tests
use adds nothing, so the application sends its own (and ``server.py`` turns uvicorn's off so
that no answer carries two).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from typing import Any

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def http_date(moment: float | None = None) -> str:
    """``Tue, 01 Dec 2026 07:19:38 GMT`` for ``moment`` (seconds since the epoch; now if None)."""
    return formatdate(time.time() if moment is None else moment, usegmt=True)


class ServerDate:
    """Pure ASGI middleware: adds ``Date`` to every HTTP response that has none."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"date" for name, _ in headers):
                    # Taken when the answer starts: like a real server, after the work was done.
                    headers.append((b"date", http_date(self._clock()).encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_date)
