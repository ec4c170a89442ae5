"""Business Central's JSON ``$batch``: ``{"requests":[…]}`` in, ``{"responses":[…]}`` out.

Each operation runs through the API's own synchronous ``execute`` while the batch holds the
store's transaction, so no other request interleaves. Without ``Isolation: snapshot`` every
operation succeeds or fails on its own. With it the batch is all-or-nothing: every operation is
still run, and if any failed, all changes are rolled back. Each operation still answers what it
answered when it ran (a 201 or 204 that was then undone included), as in BC's documented
example: the client must read one failure as "nothing was saved" (docs/sandbox-fidelity.md,
"Business Central API v2.0"). ``dependsOn`` makes an operation 424 when an operation it
depends on failed.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from .http import ApiError, ApiRequest, ApiResponse

#: BC's limit on operations in one batch.
MAX_OPERATIONS = 100
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


class BatchHost(Protocol):
    """What a batch needs of the API it runs in (``BusinessCentralApi`` provides it).

    A protocol rather than the API class itself: the API serves ``$batch`` by calling
    ``run_batch``, so naming the class here would make the two modules import each other.
    """

    def execute(self, request: ApiRequest) -> ApiResponse:
        """Serve one non-batch operation; never raises."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing block over the store."""
        ...

    def batch_reads(self) -> AbstractContextManager[None]:
        """While inside, list reads bypass any cache (they may see rolled-back rows)."""
        ...


@dataclass(frozen=True)
class _Operation:
    id: str | None
    request: ApiRequest
    depends_on: tuple[str, ...]


class _RollBack(Exception):
    """Raised inside the transaction to undo a snapshot batch in which something failed."""


def _bad(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _relative(url: str, base_url: str) -> str:
    """An operation's URL relative to the API base (it may be absolute)."""
    if base_url and url.startswith(base_url):
        return url[len(base_url) :]
    if url.startswith(("http://", "https://")):
        path = urlsplit(url).path
        marker = "/api/v2.0/"
        if marker not in path:
            raise _bad(f"The batch operation URL '{url}' is not under this API's base ({base_url}).")
        query = urlsplit(url).query
        return path.split(marker, 1)[1] + (f"?{query}" if query else "")
    return url.lstrip("/")


def _operation(raw: Any, index: int, batch: ApiRequest) -> _Operation:
    if not isinstance(raw, dict):
        raise _bad(f"Request {index + 1} of the batch is not a JSON object.")
    op_id = raw.get("id")
    if op_id is not None and not isinstance(op_id, (str, int)):
        raise _bad(f"The id of request {index + 1} of the batch must be a string.")
    method = str(raw.get("method") or "").upper()
    if method not in _METHODS:
        raise _bad(f"Request {index + 1} of the batch has no valid method (GET, POST, PATCH or DELETE).")
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _bad(f"Request {index + 1} of the batch has no url.")
    relative = _relative(url.strip(), batch.base_url)
    path, _, query_text = relative.partition("?")
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    headers_raw = raw.get("headers") or {}
    if not isinstance(headers_raw, dict):
        raise _bad(f"The headers of request {index + 1} of the batch must be a JSON object.")
    headers = {str(k).lower(): str(v) for k, v in headers_raw.items()}
    body = raw.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    depends = raw.get("dependsOn") or []
    if not isinstance(depends, list):
        raise _bad(f"The dependsOn of request {index + 1} of the batch must be a list of request ids.")
    request = ApiRequest(method=method, path=path, query=query, headers=headers, body=data, base_url=batch.base_url)
    return _Operation(None if op_id is None else str(op_id), request, tuple(str(d) for d in depends))


def _parse(batch: ApiRequest) -> list[_Operation]:
    content_type = batch.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/"):
        raise _bad("The sandbox's Business Central API takes JSON batches only (Content-Type: application/json).")
    payload = batch.json()
    if not isinstance(payload, dict) or not isinstance(payload.get("requests"), list):
        raise _bad('A JSON batch body is {"requests": [{"id", "method", "url", "headers", "body"}, …]}.')
    raw_ops = payload["requests"]
    if len(raw_ops) > MAX_OPERATIONS:
        raise _bad(
            f"The batch has {len(raw_ops)} operations, but at most {MAX_OPERATIONS} are allowed in one batch request."
        )
    ops = [_operation(raw, i, batch) for i, raw in enumerate(raw_ops)]
    seen: set[str] = set()
    for i, op in enumerate(ops):
        for dep in op.depends_on:
            if dep not in seen:
                raise _bad(
                    f"Request {i + 1} of the batch depends on '{dep}', which is not an earlier request of the batch."
                )
        if op.id is not None:
            if op.id in seen:
                raise _bad(f"The request id '{op.id}' is used more than once in the batch.")
            seen.add(op.id)
    return ops


def _failed_dependency(message: str) -> ApiResponse:
    return ApiError(424, "FailedDependency", message).to_response()


def _part(op: _Operation, response: ApiResponse) -> dict[str, Any]:
    part: dict[str, Any] = {"id": op.id, "status": response.status, "headers": dict(response.headers)}
    if response.body:
        # A part with content names the protocol version; an empty one (204) has no headers
        # (docs/sandbox-fidelity.md, "Business Central API v2.0").
        part["headers"].setdefault("odata-version", "4.0")
        content_type = response.headers.get("content-type", "")
        if "json" in content_type:
            part["body"] = json.loads(response.body)
        else:
            part["body"] = response.body.decode()
    return part


def _run_all(api: BatchHost, ops: list[_Operation]) -> list[ApiResponse]:
    responses: list[ApiResponse] = []
    status_by_id: dict[str, int] = {}
    for op in ops:
        failed = [d for d in op.depends_on if status_by_id.get(d, 0) >= 400]
        if failed:
            response = _failed_dependency(f"Not run because request '{failed[0]}' it depends on failed.")
        elif op.request.path.strip("/") == "$batch":
            response = _bad("A batch cannot contain another batch.").to_response()
        else:
            response = api.execute(op.request)
        responses.append(response)
        if op.id is not None:
            status_by_id[op.id] = response.status
    return responses


def run_batch(api: BatchHost, batch: ApiRequest) -> ApiResponse:
    """Serve ``POST $batch``; raises ApiError only for a malformed batch as a whole."""
    if batch.method.upper() != "POST":
        raise ApiError(405, "BadRequest_MethodNotAllowed", "Send a batch with POST.", {"allow": "POST"})
    ops = _parse(batch)
    snapshot = batch.headers.get("isolation", "").strip().lower() == "snapshot"
    responses: list[ApiResponse] = []
    with api.batch_reads():
        try:
            with api.transaction():
                responses = _run_all(api, ops)
                if snapshot and any(r.status >= 400 for r in responses):
                    raise _RollBack
        except _RollBack:
            pass  # undone; the answers stay as they were (see the module docstring)
    return ApiResponse.of_json(
        200,
        {"responses": [_part(op, r) for op, r in zip(ops, responses, strict=True)]},
        {"content-type": "application/json"},
    )
