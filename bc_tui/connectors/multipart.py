"""The ``multipart/mixed`` form of OData ``$batch`` (Dataverse Web API), client side.

Request: each part is ``application/http`` holding one request (request line, headers, blank
line, body), or a nested ``multipart/mixed`` change set whose parts carry a ``Content-ID``.
The response mirrors that; a failed change set answers with the one failing response only.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CRLF = "\r\n"
_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


class MultipartError(ValueError):
    """The body is not a well-formed multipart batch response."""


@dataclass(frozen=True)
class HttpPart:
    """One request to put in a batch; ``url`` absolute."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    content_id: str | None = None


@dataclass
class ResponsePart:
    """One response found in a batch response (header names lower-case)."""

    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None
    #: Index of the change set the response came in (None: a top-level part).
    change_set: int | None = None

    def json(self) -> Any:
        """The body as JSON (None when empty); ValueError when it is not JSON."""
        return json.loads(self.body) if self.body.strip() else None


def _render_request(part: HttpPart) -> str:
    mime = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id is not None:
        mime.append(f"Content-ID: {part.content_id}")
    lines = [f"{part.method} {part.url} HTTP/1.1"]
    headers = dict(part.headers)
    body = ""
    if part.body is not None:
        headers.setdefault("Content-Type", "application/json; type=entry")
        body = json.dumps(part.body, separators=(",", ":"), ensure_ascii=False)
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return CRLF.join(mime) + CRLF + CRLF + CRLF.join(lines) + CRLF + CRLF + body


def render_batch(items: Sequence[HttpPart | Sequence[HttpPart]]) -> tuple[str, bytes]:
    """Render a batch; an item that is a sequence becomes one change set. Returns (content type, body)."""
    boundary = f"batch_{uuid.uuid4()}"
    out: list[str] = []
    for item in items:
        out.append(f"--{boundary}")
        if isinstance(item, HttpPart):
            out.append(_render_request(item))
        else:
            inner = f"changeset_{uuid.uuid4()}"
            nested = [f"--{inner}{CRLF}{_render_request(p)}" for p in item]
            out.append(
                f"Content-Type: multipart/mixed; boundary={inner}{CRLF}{CRLF}"
                + CRLF.join(nested)
                + f"{CRLF}--{inner}--"
            )
    out.append(f"--{boundary}--")
    return f"multipart/mixed; boundary={boundary}", (CRLF.join(out) + CRLF).encode("utf-8")


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart content type."""
    if not content_type.lower().startswith("multipart/"):
        raise MultipartError(f"expected a multipart body, got {content_type or 'no content type'}")
    match = _BOUNDARY.search(content_type)
    if not match:
        raise MultipartError("the multipart content type has no boundary")
    return match.group(1) or match.group(2)


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = re.compile(rb"(?:\r?\n|\A)--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*(?:\r?\n|\Z)")
    parts: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            parts.append(body[start : match.start()])
        if match.group(1):  # closing delimiter
            return parts
        start = match.end()
    raise MultipartError("the multipart body has no closing delimiter")


def _headers_and_body(blob: bytes) -> tuple[dict[str, str], bytes]:
    match = re.search(rb"\r?\n\r?\n", blob)
    if match is None:
        head, rest = blob, b""
    else:
        head, rest = blob[: match.start()], blob[match.end() :]
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _parse_http(blob: bytes, mime: Mapping[str, str], change_set: int | None) -> ResponsePart:
    first, _, rest = blob.lstrip(b"\r\n").partition(b"\n")
    status_line = first.decode("latin-1").strip().split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/") or not status_line[1].isdigit():
        raise MultipartError(f"a batch response part has no status line ({first[:40]!r})")
    headers, body = _headers_and_body(rest)
    content_id = mime.get("content-id") or headers.get("content-id")
    return ResponsePart(int(status_line[1]), headers, body, content_id, change_set)


def parse_batch(content_type: str, body: bytes) -> list[ResponsePart]:
    """Flatten a batch response into its responses, in order, noting change-set membership."""
    out: list[ResponsePart] = []
    change_sets = 0
    for part in _split(body, boundary_of(content_type)):
        mime, content = _headers_and_body(part)
        inner_type = mime.get("content-type", "")
        if inner_type.lower().startswith("multipart/mixed"):
            for inner in _split(content, boundary_of(inner_type)):
                inner_mime, inner_content = _headers_and_body(inner)
                out.append(_parse_http(inner_content, inner_mime, change_sets))
            change_sets += 1
        else:
            out.append(_parse_http(content, mime, None))
    return out
