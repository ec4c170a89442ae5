"""Talk to the sandbox without sockets: an httpx transport that calls the ASGI app directly.

The in-process origin is ``http://sandbox``. A dropped connection (the ``drop`` and ``lost``
faults) surfaces exactly as over a real socket: ``httpx.RemoteProtocolError``.
"""

from __future__ import annotations

from typing import Any

import httpx

from .knobs import ConnectionDropped

ORIGIN = "http://sandbox"


class _SandboxTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


def asgi_transport(app: Any) -> httpx.AsyncBaseTransport:
    """An httpx transport for ``httpx.AsyncClient(transport=…, base_url="http://sandbox")``."""
    return _SandboxTransport(app)
