"""Business Central API v2.0 paths as the sandbox serves them: which resource a path names
(companies, one company, an entity set in it, one entity, or a count), the keys in ``(…)``, and
the service's 404 and 405 answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .bc_entities import COMPANY_ENTITIES, EntityDef
from .http import ApiError

_SEGMENT_RE = re.compile(r"^(?P<name>\$?[A-Za-z][A-Za-z0-9_]*)(?:\((?P<key>[^()]*)\))?$")
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def not_found(message: str) -> ApiError:
    """BC's 404 for a path or record that does not exist."""
    return ApiError(404, "BadRequest_NotFound", message)


def method_not_allowed(method: str, allowed: tuple[str, ...]) -> ApiError:
    """BC's 405, naming the methods the resource allows."""
    return ApiError(
        405,
        "BadRequest_MethodNotAllowed",
        f"The HTTP method '{method}' is not allowed on this resource; allowed: {', '.join(allowed)}.",
        {"allow": ", ".join(allowed)},
    )


def _key(raw: str) -> str:
    """A key from ``(…)`` in the URL: a bare or quoted GUID, optionally ``id=…``; lower-cased."""
    text = raw.strip()
    if "=" in text:
        name, _, text = text.partition("=")
        if name.strip() != "id":
            raise ApiError(
                400, "BadRequest", f"The key property '{name.strip()}' is not the key of this entity; use id."
            )
        text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]
    if not _GUID_RE.match(text):
        raise ApiError(
            400,
            "BadRequest",
            f"'{raw}' is not a valid id; an id is a GUID such as 00000000-0000-0000-0000-000000000000.",
        )
    return text.lower()


@dataclass(frozen=True)
class Route:
    """What a path names: companies, one company, an entity set in it, one entity, or a count."""

    kind: str  # companies | company | collection | entity | count
    company_id: str | None = None
    entity: EntityDef | None = None
    key: str | None = None


def route_of(path: str) -> Route:
    """What ``path`` (relative to the API root) names; BC's 404 or 400 when it names nothing."""
    segments = [s for s in path.strip("/").split("/") if s]
    parsed: list[tuple[str, str | None]] = []
    for segment in segments:
        m = _SEGMENT_RE.match(segment)
        if not m:
            raise not_found(f"No resource was found that matches the request URI segment '{segment}'.")
        parsed.append((m.group("name"), m.group("key")))
    if not parsed or parsed[0][0] != "companies":
        what = path or "(the service root)"
        raise not_found(f"No resource was found that matches the request URI '{what}'; paths start with companies.")
    if len(parsed) == 1:
        key = parsed[0][1]
        return Route("companies") if key is None else Route("company", company_id=_key(key))
    company_key = parsed[0][1]
    if company_key is None:
        raise not_found("Entities live under companies(<company id>)/; give the company id.")
    company_id = _key(company_key)
    name, key = parsed[1]
    entity = COMPANY_ENTITIES.get(name)
    if entity is None:
        known = ", ".join(sorted(COMPANY_ENTITIES))
        raise not_found(f"The entity set '{name}' does not exist in this API (the sandbox serves {known}).")
    if len(parsed) == 2:
        if key is None:
            return Route("collection", company_id, entity)
        return Route("entity", company_id, entity, _key(key))
    if len(parsed) == 3 and key is None and parsed[2] == ("$count", None):
        return Route("count", company_id, entity)
    raise not_found(f"No resource was found that matches the request URI '{path}'.")
