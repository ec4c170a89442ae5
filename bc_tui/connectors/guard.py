"""Guards against servers that answer slowly, hugely or indiscreetly.

* An overall deadline per HTTP request (:data:`DEFAULT_DEADLINE_S`): httpx's timeout is per
  read, so a server that sends one byte every few seconds would never trip it. The callers wrap
  sending and reading the whole answer in ``asyncio.timeout``.
* A cap on the bytes of one answer (:data:`DEFAULT_MAX_BODY_BYTES`): :class:`CappedTransport`
  counts the bytes as they arrive and stops reading an endless or absurdly large body.
* :func:`redact`: a service or a proxy may echo the request in its error message (a token
  endpoint that echoes the form body puts the client secret there). Every error sentence built
  from a server's words passes through it, and through ``shorten`` so it stays one short line.
"""

from __future__ import annotations

import functools
import re
import ssl
import urllib.parse
from collections.abc import AsyncIterator, Iterable

import httpx

from bc_tui.domain.text import shorten

#: The longest one HTTP request may take, from sending to the last byte of the answer.
DEFAULT_DEADLINE_S = 300.0
#: The most bytes (as sent, before decompression) one answer may have. A page of 1,000 records
#: with every field is a few megabytes; this leaves room for large batches.
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
#: How many characters of a server's own words an error sentence quotes.
SERVER_WORDS_LIMIT = 200

_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")  # 8+: not the word "token"
_FORM_SECRET = re.compile(
    r"(?i)\b((?:client_secret|access_token|refresh_token|client_assertion|password)[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@")


class BodyTooLarge(httpx.TransportError):
    """The answer was larger than the cap; reading stopped there."""


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with the given secrets, bearer tokens, form secrets and URL passwords as ``***``.

    Each secret is also looked for in its URL-encoded forms, since an echoed form body carries
    it encoded.
    """
    for secret in secrets:
        if not secret or len(secret) < 4:  # too short to find without wrecking the sentence
            continue
        for form in {secret, urllib.parse.quote_plus(secret), urllib.parse.quote(secret, safe="")}:
            text = text.replace(form, "***")
    text = _BEARER.sub(r"\1***", text)
    text = _FORM_SECRET.sub(r"\1***", text)
    return _URL_PASSWORD.sub(r"\1***@", text)


def server_words(text: object, secrets: Iterable[str | None] = (), limit: int = SERVER_WORDS_LIMIT) -> str:
    """A server's message made fit for one sentence: no secrets, no control characters, short."""
    return shorten(redact(str(text or ""), secrets), limit)


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise BodyTooLarge(f"the answer is larger than {self._limit:,} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (the CA bundle it would pick), built once per process.

    Building one reads the whole CA bundle, about a third of a second, and every service client
    and token source has a transport of its own: a command paid that four times before they
    shared one. A context may serve any number of connections at once.
    """
    return httpx.create_ssl_context()


class CappedTransport(httpx.AsyncBaseTransport):
    """A transport that stops reading an answer body after ``limit`` bytes.

    Without an inner transport it uses httpx's own network transport.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        limit: int = DEFAULT_MAX_BODY_BYTES,
        limits: httpx.Limits | None = None,
    ) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport(verify=tls_context(), limits=limits or httpx.Limits())
        self.limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the inner transport; its answer's body is capped."""
        response = await self._inner.handle_async_request(request)
        if not isinstance(response.stream, httpx.AsyncByteStream):  # pragma: no cover - sync stream
            return response
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self.limit),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()


__all__ = ["BodyTooLarge", "CappedTransport", "DEFAULT_DEADLINE_S", "DEFAULT_MAX_BODY_BYTES", "redact", "server_words"]
