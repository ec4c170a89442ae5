"""OData ``$batch`` in its multipart/mixed form (Dataverse Web API), both directions.

The request side (``parse_batch_request``) and the response side (``render_batch_response``)
are what the sandbox serves; their mirrors (``render_batch_request``,
``parse_batch_response``) let tests and tools speak the same format. Nothing here executes
a request: this module only turns bytes into parts and parts into bytes.

Format (OData 4.0 Part 1 §11.7, as in Microsoft's "Execute batch operations using the Web
API"): the body is ``multipart/mixed; boundary=batch_…``; each part is either an
``application/http`` part (``Content-Transfer-Encoding: binary``) holding one HTTP request
(request line, headers, blank line, body), or a nested ``multipart/mixed;
boundary=changeset_…`` part: a change set whose ``application/http`` parts carry a
``Content-ID``. Responses mirror that with ``batchresponse_…`` / ``changesetresponse_…``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.errors import MissingHeaderBodySeparatorDefect, StartBoundaryNotFoundDefect
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from http import HTTPStatus
from typing import TypeVar

CRLF = b"\r\n"


class BatchFormatError(ValueError):
    """The body is not a well-formed multipart batch; ``str(exc)`` is the client message."""


@dataclass
class BatchRequestPart:
    """One HTTP request inside a batch (header names lower-case)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_id: str | None = None


@dataclass
class ChangeSet:
    """An atomic group of requests inside a batch."""

    requests: list[BatchRequestPart] = field(default_factory=list)


@dataclass
class BatchResponsePart:
    """One HTTP response inside a batch response (header names lower-case)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_id: str | None = None


@dataclass
class ChangeSetResponse:
    """The responses of a change set that succeeded, in request order."""

    responses: list[BatchResponsePart] = field(default_factory=list)


BatchRequestItem = BatchRequestPart | ChangeSet
BatchResponseItem = BatchResponsePart | ChangeSetResponse


# ----------------------------------------------------------------- MIME plumbing

_BOUNDARY_RE = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


def boundary_of(content_type: str) -> str:
    """The boundary of a ``multipart/mixed`` content type; BatchFormatError if there is none."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "multipart/mixed":
        raise BatchFormatError(
            f"The content type '{content_type or '(none)'}' is not valid for a batch; "
            "use multipart/mixed with a boundary."
        )
    match = _BOUNDARY_RE.search(content_type)
    if not match:
        raise BatchFormatError("The multipart/mixed content type of the batch has no boundary parameter.")
    return match.group(1) or match.group(2)


def _read_multipart(body: bytes, content_type: str) -> Message:
    """``body`` read by the standard library's MIME parser as a ``content_type`` message.

    The sandbox reads multipart with ``email`` on purpose, not as the client does: an independent
    reading (CONTRIBUTING.md, "The layers and their contracts"). The parser accepts CRLF or bare
    LF line ends, ignores the preamble and epilogue, and counts the line break before each
    delimiter as the delimiter's.
    """
    boundary_of(content_type)  # its sentences for a wrong media type or a missing boundary
    head = f"Content-Type: {content_type}".encode("latin-1", "replace") + CRLF + CRLF
    return BytesParser(policy=compat32).parsebytes(head + body)


def _multipart_parts(message: Message) -> list[Message]:
    """The parts of a parsed ``multipart/mixed`` message; BatchFormatError when it has none or a
    part's headers are not ``Name: value`` lines.

    A body without the close delimiter is read leniently: the rest is its last part.
    """
    payload = message.get_payload()
    if not isinstance(payload, list) or any(isinstance(d, StartBoundaryNotFoundDefect) for d in message.defects):
        raise BatchFormatError(f"The batch body contains no part delimited by '--{message.get_boundary()}'.")
    parts = [part for part in payload if isinstance(part, Message)]  # a multipart's parts are all messages
    for part in parts:
        if any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in part.defects):
            line = (_part_content(part).decode("utf-8", "replace").splitlines() or [""])[0]
            raise BatchFormatError(f"The batch part header line '{line}' is not 'Name: value'.")
    return parts


def _part_content(part: Message) -> bytes:
    """The bytes of a part as they were sent (the parts are ``Content-Transfer-Encoding: binary``)."""
    content = part.get_payload(decode=True)
    return content if isinstance(content, bytes) else b""


def _part_headers(part: Message) -> dict[str, str]:
    """A part's MIME headers with lower-case names (later duplicates win)."""
    return {name.lower(): str(value).strip() for name, value in part.items()}


def split_head(data: bytes) -> tuple[list[str], bytes]:
    """Split ``data`` at the first blank line into header lines and the rest."""
    match = re.search(rb"\r?\n\r?\n", data)
    if data.startswith((b"\r\n", b"\n")):
        head, rest = b"", data[2 if data.startswith(b"\r\n") else 1 :]
    elif match:
        head, rest = data[: match.start()], data[match.end() :]
    else:
        head, rest = data, b""
    lines = [line for line in head.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines, rest


def parse_headers(lines: Iterable[str]) -> dict[str, str]:
    """``Name: value`` lines into a dict with lower-case names (later duplicates win)."""
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise BatchFormatError(f"The batch part header line '{line}' is not 'Name: value'.")
        headers[name.strip().lower()] = value.strip()
    return headers


def _message_body(rest: bytes, headers: dict[str, str]) -> bytes:
    length = headers.get("content-length", "")
    if length.isdigit() and int(length) <= len(rest):
        return rest[: int(length)]
    # Clients commonly leave blank lines between a body and the next delimiter.
    return rest.rstrip(b"\r\n")


_CANONICAL = {
    "odata-entityid": "OData-EntityId",
    "odata-version": "OData-Version",
    "odata-maxversion": "OData-MaxVersion",
    "content-id": "Content-ID",
    "etag": "ETag",
}


def canonical_header(name: str) -> str:
    """``odata-entityid`` -> ``OData-EntityId``; other names in Title-Case."""
    lower = name.lower()
    return _CANONICAL.get(lower) or "-".join(word.capitalize() for word in lower.split("-"))


def _header_block(headers: dict[str, str]) -> bytes:
    return b"".join(f"{canonical_header(k)}: {v}".encode() + CRLF for k, v in headers.items())


# ----------------------------------------------------------------- requests


def _parse_request_part(part: Message, *, in_change_set: bool) -> BatchRequestPart:
    part_headers = _part_headers(part)
    content_type = part_headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/http":
        raise BatchFormatError(
            f"A batch part has the content type '{content_type or '(none)'}'; expected application/http."
        )
    lines, rest = split_head(_part_content(part))
    if not lines:
        raise BatchFormatError("A batch part holds no HTTP request line.")
    words = lines[0].split()
    if len(words) > 3 and words[-1].upper().startswith("HTTP/"):
        # OData's batch reader takes the URL between the first and the last space, so a
        # space the client left unencoded in a query option is part of the URL.
        words = [words[0], lines[0].strip()[len(words[0]) : -len(words[-1])].strip(), words[-1]]
    if len(words) < 2 or (len(words) == 3 and not words[2].upper().startswith("HTTP/")) or len(words) > 3:
        raise BatchFormatError(f"The batch request line '{lines[0]}' is not 'METHOD URL HTTP/1.1'.")
    headers = parse_headers(lines[1:])
    # Early clients put Content-ID among the request's own headers; accept both places.
    content_id = part_headers.get("content-id") or headers.get("content-id")
    if in_change_set and not content_id:
        raise BatchFormatError("Content-ID header not present in a change set request.")
    return BatchRequestPart(words[0].upper(), words[1], headers, _message_body(rest, headers), content_id)


def parse_batch_request(body: bytes, content_type: str) -> list[BatchRequestItem]:
    """Parse a ``$batch`` request body into requests and change sets, in order.

    Raises BatchFormatError when the body does not follow the format; nested change sets
    inside a change set are refused, as OData allows only one level.
    """
    items: list[BatchRequestItem] = []
    for part in _multipart_parts(_read_multipart(body, content_type)):
        if _is_change_set(part):
            change_set = ChangeSet()
            for inner in _multipart_parts(part):
                if _is_change_set(inner):
                    raise BatchFormatError("A change set may not contain another change set.")
                change_set.requests.append(_parse_request_part(inner, in_change_set=True))
            items.append(change_set)
        else:
            items.append(_parse_request_part(part, in_change_set=False))
    return items


def _is_change_set(part: Message) -> bool:
    """Whether ``part`` is a nested ``multipart/mixed`` (a change set); BatchFormatError when it
    says so but names no boundary."""
    content_type = part.get("content-type", "")
    if not content_type.lower().startswith("multipart/mixed"):
        return False
    boundary_of(content_type)
    return True


def _request_part_bytes(request: BatchRequestPart) -> bytes:
    part_headers = {"content-type": "application/http", "content-transfer-encoding": "binary"}
    if request.content_id is not None:
        part_headers["content-id"] = request.content_id
    out = _header_block(part_headers) + CRLF
    out += f"{request.method} {request.url} HTTP/1.1".encode() + CRLF
    out += _header_block(request.headers) + CRLF
    return out + request.body


def render_batch_request(items: Iterable[BatchRequestItem], boundary: str | None = None) -> tuple[str, bytes]:
    """Serialize requests and change sets; returns (content type, body)."""
    boundary = boundary or f"batch_{uuid.uuid4()}"
    parts = [item.requests if isinstance(item, ChangeSet) else item for item in items]
    return f"multipart/mixed; boundary={boundary}", _multipart(parts, boundary, "changeset", _request_part_bytes)


_Part = TypeVar("_Part", BatchRequestPart, BatchResponsePart)


def _multipart(
    items: Iterable[_Part | Sequence[_Part]],
    boundary: str,
    change_set_prefix: str,
    part_bytes: Callable[[_Part], bytes],
) -> bytes:
    """The body of a batch (requests or answers alike): each item is one part, or a sequence of
    parts that form a change set with a boundary ``<change_set_prefix>_<guid>`` of its own."""
    out = b""
    for item in items:
        out += f"--{boundary}".encode() + CRLF
        if isinstance(item, Sequence):
            inner = f"{change_set_prefix}_{uuid.uuid4()}"
            out += f"Content-Type: multipart/mixed; boundary={inner}".encode() + CRLF + CRLF
            for part in item:
                out += f"--{inner}".encode() + CRLF + part_bytes(part) + CRLF
            out += f"--{inner}--".encode() + CRLF
        else:
            out += part_bytes(item) + CRLF
    out += f"--{boundary}--".encode() + CRLF
    return out


# ----------------------------------------------------------------- responses


def _response_part_bytes(response: BatchResponsePart) -> bytes:
    part_headers = {"content-type": "application/http", "content-transfer-encoding": "binary"}
    if response.content_id is not None:
        part_headers["content-id"] = response.content_id
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Unknown"
    out = _header_block(part_headers) + CRLF
    out += f"HTTP/1.1 {response.status} {phrase}".encode() + CRLF
    out += _header_block(response.headers) + CRLF
    return out + response.body


def render_batch_response(items: Iterable[BatchResponseItem], boundary: str | None = None) -> tuple[str, bytes]:
    """Serialize the answers of a batch; returns (content type, body).

    Boundaries are ``batchresponse_<guid>`` and ``changesetresponse_<guid>`` as Dataverse
    writes them.
    """
    boundary = boundary or f"batchresponse_{uuid.uuid4()}"
    parts = [item.responses if isinstance(item, ChangeSetResponse) else item for item in items]
    return f"multipart/mixed; boundary={boundary}", _multipart(
        parts, boundary, "changesetresponse", _response_part_bytes
    )


def _parse_response_part(part: Message) -> BatchResponsePart:
    part_headers = _part_headers(part)
    lines, rest = split_head(_part_content(part))
    words = lines[0].split(maxsplit=2) if lines else []
    if len(words) < 2 or not words[1].isdigit():
        raise BatchFormatError(f"The batch response status line '{lines[0] if lines else ''}' is not valid.")
    headers = parse_headers(lines[1:])
    content_id = part_headers.get("content-id") or headers.get("content-id")
    return BatchResponsePart(int(words[1]), headers, _message_body(rest, headers), content_id)


def parse_batch_response(body: bytes, content_type: str) -> list[BatchResponseItem]:
    """Parse a ``$batch`` response body into responses and change set responses, in order."""
    items: list[BatchResponseItem] = []
    for part in _multipart_parts(_read_multipart(body, content_type)):
        if _is_change_set(part):
            items.append(ChangeSetResponse([_parse_response_part(inner) for inner in _multipart_parts(part)]))
        else:
            items.append(_parse_response_part(part))
    return items
