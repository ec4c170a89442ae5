"""textual-serve's server, on a socket ``bc-tui web`` has bound, with its requests checked.

textual-serve binds the host and port itself and builds the page's links from them; here the
socket is bound beforehand (a port in use is one sentence, port 0 works), the links follow the
address the browser used, and requests from other sites are refused (docs/browser-mode.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler
from textual_serve.server import Server

log = logging.getLogger("bc-tui web")


class AppServer(Server):
    """Serves ``command`` (one process per browser page) on a listening socket."""

    def __init__(self, sock: socket.socket, command: str, *, url: str, loopback: bool, warning: str | None) -> None:
        """``url``: the address printed for the user; ``loopback``: the socket listens on
        loopback only (then the Host header must name loopback); ``warning``: logged when a
        browser opens the app (a server others can reach)."""
        host, port = sock.getsockname()[:2]
        super().__init__(command, host=str(host), port=int(port), title="bc-tui", public_url=url)
        self._sock = sock
        self._loopback = loopback
        self._warning = warning
        self._sessions: set[asyncio.Task[object]] = set()

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT or SIGTERM (textual-serve's own loop, on the bound socket)."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows has no loop signal handlers
                loop.add_signal_handler(signal_number, self.request_exit)
        web.run_app(self._make_app(), sock=self._sock, handle_signals=False, loop=loop, print=lambda *_args: None)

    async def _make_app(self) -> web.Application:
        """textual-serve's application, every request of it checked first (page, script, websocket
        and downloads alike)."""
        app = await super()._make_app()
        loopback = self._loopback

        @web.middleware
        async def checked(request: web.Request, handler: Handler) -> web.StreamResponse:
            refused = refusal(request, loopback=loopback)
            if refused is not None:
                raise web.HTTPForbidden(text=refused)
            return await handler(request)

        app.middlewares.append(checked)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """Say where to open the app, instead of textual-serve's banner."""
        print(f"bc-tui web: open {self.public_url} in a web browser; press Ctrl+C here to stop.", flush=True)

    async def on_shutdown(self, app: web.Application) -> None:
        """End the apps of open pages: otherwise the server waits for each browser to leave.

        textual-serve's handler answers the cancel by closing the page's websocket and asking
        its app to quit, then waits for it, so every app ends as if its page had closed.
        """
        for session in self._sessions:
            session.cancel()

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page, its links to the address the browser used (a wildcard host has no other)."""
        # The page's links are built from public_url without an await in between, so setting it
        # per request cannot leak into another request's page.
        self.public_url = f"{request.scheme}://{request.host}"
        response: web.StreamResponse = await super().handle_index(request)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """The app's terminal stream, ended by the server's stop as by its page's closing."""
        if self._warning is not None:
            log.warning("A browser at %s opened the app. %s", request.remote, self._warning)
        session = asyncio.current_task()
        assert session is not None  # aiohttp runs each request as a task
        self._sessions.add(session)
        try:
            return await super().handle_websocket(request)
        finally:
            self._sessions.discard(session)


def same_origin(origin: str | None, host: str) -> bool:
    """Whether a websocket's ``Origin`` header names the page's own host (absent: not a browser)."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def loopback_name(host: str) -> bool:
    """Whether a ``Host`` header names this machine's loopback (``localhost``, 127.x, ``[::1]``)."""
    try:
        name = urlsplit(f"//{host}").hostname or ""
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refusal(request: web.Request, *, loopback: bool) -> str | None:
    """Why a request is refused (one sentence), or None to serve it.

    On loopback the ``Host`` must name loopback, so that a web page whose name was re-pointed at
    127.0.0.1 (DNS rebinding) gets nothing; a websocket opened by a browser must come from the
    app's own page, so that another site cannot drive the app (docs/browser-mode.md).
    """
    host = request.host
    if loopback and not loopback_name(host):
        return "bc-tui serves this machine only: open it as http://127.0.0.1 or http://localhost."
    upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
    if upgrade and not same_origin(request.headers.get("Origin"), host):
        return "bc-tui accepts its websocket from its own page only."
    return None
