"""Run the sandbox over real HTTP on loopback with uvicorn: in the foreground or in a thread."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .app import create_app, sandbox_info
from .knobs import ConnectionDropped
from .settings import SandboxSettings
from .tls import TlsFiles, ensure_certificates


class _HideInjectedDrops(logging.Filter):
    """uvicorn logs every exception from the app; an injected dropped connection is not news.

    Nor is the end of the short graceful-shutdown wait of an https sandbox (see ``_server``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if "timeout graceful shutdown exceeded" in record.getMessage():
            return False  # the short TLS shutdown timeout below, reached by idle connections
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


def _tls_files(settings: SandboxSettings, tls: bool) -> TlsFiles | None:
    """The certificates to serve https with, kept in the data folder; None for plain http."""
    if not tls:
        return None
    if settings.data_dir is None:
        raise ValueError("https needs a data folder to keep its certificate in")
    return ensure_certificates(Path(settings.data_dir))


def _server(app: Starlette, host: str, port: int, tls: TlsFiles | None = None) -> uvicorn.Server:
    # date_header=False: the application sends its own Date (server_date.py); two would be wrong.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        date_header=False,
        ssl_certfile=str(tls.server_cert) if tls else None,
        ssl_keyfile=str(tls.server_key) if tls else None,
        # Closing an idle TLS keep-alive connection waits for the client's close_notify, up to
        # asyncio's 30 s; a sandbox that stops on Ctrl-C should not wait that long for it.
        timeout_graceful_shutdown=3 if tls else None,
    )
    logger = logging.getLogger("uvicorn.error")
    if _HIDE_DROPS not in logger.filters:
        logger.addFilter(_HIDE_DROPS)
    return uvicorn.Server(config)


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves: a busy port is a plain OSError, and port 0 is resolved."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it a keep-alive client waits ~40 ms per
        # request (Nagle's algorithm against the client's delayed ACK).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def _origin(sock: socket.socket, host: str, tls: TlsFiles | None = None) -> str:
    port = sock.getsockname()[1]
    display = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{display}:{port}"


def _info(settings: SandboxSettings, origin: str, tls: TlsFiles | None) -> dict[str, Any]:
    """``sandbox_info``, plus the CA certificate to trust when serving https."""
    info = sandbox_info(settings, origin)
    if tls is not None:
        info["ca_cert"] = str(tls.ca_cert)
    return info


def serve(
    settings: SandboxSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
    allow_remote: bool = False,
    tls: bool = False,
) -> None:
    """Serve until interrupted (Ctrl-C raises KeyboardInterrupt after a clean shutdown).

    ``port=0`` picks any free port; ``on_ready`` gets ``sandbox_info`` once it listens (with
    ``ca_cert`` when ``tls`` serves https with the certificate kept in the data folder).
    """
    _check_host(host, allow_remote)
    tls_files = _tls_files(settings, tls)
    sock = _bind(host, port)
    try:
        app = create_app(settings)
        server = _server(app, host, port, tls_files)

        async def run() -> None:
            task = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                if task.done():
                    break
                await asyncio.sleep(0.02)
            else:
                if on_ready is not None:
                    on_ready(_info(settings, _origin(sock, host, tls_files), tls_files))
            await task

        try:
            asyncio.run(run())
        except SystemExit:  # uvicorn's way of saying that startup failed
            raise OSError(f"the sandbox could not start on {host}:{port}") from None
    finally:
        sock.close()


class RunningSandbox:
    """A sandbox served by uvicorn in a daemon thread; ``stop()`` (or leaving ``with``) ends it."""

    def __init__(
        self, app: Starlette, server: uvicorn.Server, thread: threading.Thread, info: dict[str, Any], origin: str
    ) -> None:
        self.app = app
        self.info = info
        self.origin = origin
        self._server = server
        self._thread = thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    settings: SandboxSettings, host: str = "127.0.0.1", port: int = 0, tls: bool = False
) -> RunningSandbox:
    """Start a sandbox on loopback in a background thread and wait until it listens.

    With ``tls`` it serves https (``settings.data_dir`` keeps the certificate; see ``serve``).
    """
    _check_host(host, allow_remote=False)
    tls_files = _tls_files(settings, tls)
    sock = _bind(host, port)
    try:
        app = create_app(settings)
    except BaseException:
        sock.close()
        raise
    server = _server(app, host, port, tls_files)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - any failure, even SystemExit, is surfaced to the caller below
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name="bc-tui-sandbox", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise OSError(f"the sandbox could not listen on {host}:{port}") from (failure[0] if failure else None)
        thread.join(timeout=0.01)
    origin = _origin(sock, host, tls_files)
    return RunningSandbox(app, server, thread, _info(settings, origin, tls_files), origin)
