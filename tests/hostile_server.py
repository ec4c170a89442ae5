"""A small raw HTTP/1.1 server that misbehaves on purpose: the other side of the wire in tests.

It runs an asyncio socket server on a loopback port in a thread and answers each request with
one *behaviour*: an async function that writes whatever bytes it likes (a proper token, an
answer trickled one byte at a time, an endless body, a body cut off in the middle …). Nothing of
bc-tui is replaced: the real clients talk to it over real sockets.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Behaviour = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int, body: bytes | str | Any, content_type: str = "application/json") -> Behaviour:
    """A complete, well-framed answer (a dict or list body is sent as JSON)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body

    async def behave(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(status, {"Content-Type": content_type, "Content-Length": str(len(data))}) + data)
        await writer.drain()

    return behave


def token() -> Behaviour:
    """A token endpoint that hands out a token."""
    return answer(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "tok-123"})


def echo_token(status: int = 401) -> Behaviour:
    """A token endpoint that refuses and echoes the whole request body in its description."""

    async def behave(request: Request, writer: asyncio.StreamWriter) -> None:
        said = request.body.decode("latin-1")
        body = json.dumps({"error": "invalid_client", "error_description": f"Bad request: {said}"}).encode()
        writer.write(_head(status, {"Content-Type": "application/json", "Content-Length": str(len(body))}) + body)
        await writer.drain()

    return behave


def echo_api(status: int = 400) -> Behaviour:
    """An API that refuses with an OData error echoing the request's Authorization header."""

    async def behave(request: Request, writer: asyncio.StreamWriter) -> None:
        said = f"Authorization: {request.headers.get('authorization', '')} " + "x" * 10_000
        body = json.dumps({"error": {"code": "BadRequest", "message": said}}).encode()
        writer.write(_head(status, {"Content-Type": "application/json", "Content-Length": str(len(body))}) + body)
        await writer.drain()

    return behave


def trickle(every_s: float = 0.5) -> Behaviour:
    """Headers at once, then a JSON body one byte every ``every_s`` seconds (never done in time)."""

    async def behave(request: Request, writer: asyncio.StreamWriter) -> None:
        body = json.dumps({"value": [], "padding": "x" * 1000}).encode()
        writer.write(_head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}))
        for byte in body:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every_s)

    return behave


def endless(chunk: int = 64 * 1024) -> Behaviour:
    """A chunked JSON body that never ends."""

    async def behave(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        writer.write(b"%x\r\n%s\r\n" % (len(b'{"value": ["'), b'{"value": ["'))
        data = b"A" * chunk
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()

    return behave


def cut_off() -> Behaviour:
    """Promise 1,000 bytes, send 10, close the connection."""

    async def behave(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(200, {"Content-Type": "application/json", "Content-Length": "1000"}) + b'{"value": ')
        await writer.drain()
        writer.close()

    return behave


@dataclass
class HostileServer:
    """Serves ``routes`` (path prefix → behaviour, longest prefix wins) and ``default`` otherwise."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    default: Behaviour = field(default_factory=lambda: answer(404, {"error": {"code": "NotFound", "message": "no"}}))
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                while True:
                    request = await _read_request(reader)
                    if request is None:
                        break
                    self.requests.append(request)
                    behaviour = next(
                        (
                            b
                            for p, b in sorted(self.routes.items(), key=lambda i: -len(i[0]))
                            if request.path.startswith(p)
                        ),
                        self.default,
                    )
                    await behaviour(request, writer)
                    if writer.is_closing():
                        break
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return Request(method, path, headers, body)
