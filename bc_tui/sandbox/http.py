"""Transport-neutral request and response types shared by the emulated APIs.

Each API is a synchronous ``dispatch(ApiRequest) -> ApiResponse`` function, so that a
``$batch`` can run its parts inside one store transaction without other requests interleaving,
and so that the Starlette layer (``app.py``) stays a thin adapter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiRequest:
    """One request, with ``path`` relative to the API's base (e.g. ``companies(…)/customers``)."""

    method: str
    path: str
    #: Decoded query parameters (``$filter`` etc.), last value wins.
    query: Mapping[str, str]
    #: Header names are lower-case.
    headers: Mapping[str, str]
    body: bytes = b""
    #: Scheme + host + base path of the API as the client sees it, for ``@odata.nextLink``,
    #: ``@odata.context`` and ``OData-EntityId`` (e.g. ``http://127.0.0.1:8123/api/data/v9.2/``).
    base_url: str = ""

    def json(self) -> Any:
        """The body as JSON; raise ApiError(400) when it is not."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"The request body is not valid JSON: {exc}") from exc


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
        hdrs = {"content-type": "application/json; odata.metadata=minimal"}
        hdrs.update(headers or {})
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), hdrs)

    @classmethod
    def empty(cls, status: int = 204, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return cls(status, b"", dict(headers or {}))


class ApiError(Exception):
    """An OData error: rendered as ``{"error":{"code":…,"message":…}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def to_response(self) -> ApiResponse:
        return ApiResponse.of_json(self.status, {"error": {"code": self.code, "message": self.message}}, self.headers)
