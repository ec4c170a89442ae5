"""Run the sandbox over real HTTP on loopback with uvicorn: in the foreground or in a thread."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from typing import Any, Callable

import uvicorn
from starlette.applications import Starlette

from .app import create_app, sandbox_info
from .knobs import ConnectionDropped
from .settings import SandboxSettings


class _HideInjectedDrops(logging.Filter):
    """uvicorn logs every exception from the app; an injected dropped connection is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_HIDE_DROPS = _HideInjectedDrops()


def _check_host(host: str, allow_remote: bool) -> None:
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the sandbox listens on loopback only (127.0.0.1, ::1 or localhost), not {host!r}")


def _server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    logger = logging.getLogger("uvicorn.error")
    if _HIDE_DROPS not in logger.filters:
        logger.addFilter(_HIDE_DROPS)
    return uvicorn.Server(config)


def _origin(server: uvicorn.Server, host: str) -> str:
    sock = server.servers[0].sockets[0]
    port = sock.getsockname()[1]
    display = f"[{host}]" if ":" in host else host
    return f"http://{display}:{port}"


def serve(
    settings: SandboxSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
    allow_remote: bool = False,
) -> None:
    """Serve until interrupted (Ctrl-C raises KeyboardInterrupt after a clean shutdown).

    ``port=0`` picks any free port; ``on_ready`` gets ``sandbox_info`` once it listens.
    """
    _check_host(host, allow_remote)
    app = create_app(settings)
    server = _server(app, host, port)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task  # startup failed (e.g. port in use): raise its error
                return
            await asyncio.sleep(0.02)
        if on_ready is not None:
            on_ready(sandbox_info(settings, _origin(server, host)))
        await task

    asyncio.run(run())
    if not server.started:
        raise OSError(f"the sandbox could not listen on {host}:{port}")


class RunningSandbox:
    """A sandbox served by uvicorn in a daemon thread; ``stop()`` (or leaving ``with``) ends it."""

    def __init__(self, app: Starlette, server: uvicorn.Server, thread: threading.Thread, info: dict[str, Any], origin: str) -> None:
        self.app = app
        self.info = info
        self.origin = origin
        self._server = server
        self._thread = thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(settings: SandboxSettings, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Start a sandbox on loopback in a background thread and wait until it listens."""
    _check_host(host, allow_remote=False)
    app = create_app(settings)
    server = _server(app, host, port)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name="bc-tui-sandbox", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise OSError(f"the sandbox could not listen on {host}:{port}") from (failure[0] if failure else None)
        thread.join(timeout=0.01)
    origin = _origin(server, host)
    return RunningSandbox(app, server, thread, sandbox_info(settings, origin), origin)
