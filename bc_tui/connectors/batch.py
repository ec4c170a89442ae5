"""Operations sent in one ``$batch`` and what came back for each, in the caller's order."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConnectorError
from .models import Entity


def entity_path(kind: type[Entity], key: str) -> str:
    """``customers(<id>)``: the path of one row, relative to where its entity set lives."""
    return f"{kind.ENTITY_SET}({key})"


@dataclass(frozen=True)
class BatchOperation:
    """One request of a batch.

    ``path`` is relative to the entity root (the company in Business Central, the service
    root in Dataverse). ``record`` names the record in error messages.
    """

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    record: str | None = None

    @property
    def operation(self) -> str:
        """``read``, ``create``, ``update`` or ``delete`` (for error messages)."""
        return {"GET": "read", "POST": "create", "PATCH": "update", "DELETE": "delete"}.get(self.method, "update")

    @classmethod
    def read(cls, kind: type[Entity], key: str, *, record: str | None = None) -> BatchOperation:
        """GET one row."""
        return cls("GET", entity_path(kind, key), record=record or f"{kind.NOUN} {key}")

    @classmethod
    def create(cls, kind: type[Entity], data: Mapping[str, Any], *, record: str | None = None) -> BatchOperation:
        """POST a new row (Dataverse rows get a client-generated key when ``data`` has none)."""
        body = dict(data)
        if kind.CLIENT_KEY and not body.get(kind.KEY):
            body[kind.KEY] = str(uuid.uuid4())
        return cls("POST", kind.ENTITY_SET, body, {"Prefer": "return=representation"}, record or _describe(kind, body))

    @classmethod
    def update(
        cls, kind: type[Entity], key: str, etag: str, changes: Mapping[str, Any], *, record: str | None = None
    ) -> BatchOperation:
        """PATCH a row guarded by the ETag the change was based on."""
        if not etag:
            raise ValueError("an update needs the ETag it was based on (or '*')")
        return cls(
            "PATCH",
            entity_path(kind, key),
            dict(changes),
            {"If-Match": etag, "Prefer": "return=representation"},
            record or f"{kind.NOUN} {key}",
        )

    @classmethod
    def delete(cls, kind: type[Entity], key: str, etag: str, *, record: str | None = None) -> BatchOperation:
        """DELETE a row guarded by the ETag the decision was based on."""
        if not etag:
            raise ValueError("a delete needs the ETag it was based on (or '*')")
        return cls("DELETE", entity_path(kind, key), None, {"If-Match": etag}, record or f"{kind.NOUN} {key}")


@dataclass(frozen=True)
class BatchResult:
    """What one operation of a batch got.

    ``status`` is None when the service did not process the operation (an earlier one failed, or
    its change set was rolled back); ``error`` is then set too.
    """

    status: int | None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        """True when the operation succeeded."""
        return self.error is None and self.status is not None and self.status < 400


def _describe(kind: type[Entity], body: Mapping[str, Any]) -> str:
    name = body.get("number") or body.get("displayName") or body.get("name") or body.get("fullname")
    if not name and (body.get("firstname") or body.get("lastname")):
        name = " ".join(str(p) for p in (body.get("firstname"), body.get("lastname")) if p)
    return f"{kind.NOUN} {name}" if name else f"a new {kind.NOUN}"
