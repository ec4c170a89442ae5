"""The Dataverse Web API's error answers and the request-header rules the emulation shares.

Error codes are the service's own (``{"error":{"code":"0x…","message":"…"}}``); the helpers
here build them so every module refuses in the same words.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .http import ApiError

#: Generic "bad request" code the Web API uses for OData-level errors.
E_BAD_REQUEST = "0x80060888"
E_NOT_FOUND = "0x80040217"
E_DUPLICATE = "0x80040237"
E_VERSION_MISMATCH = "0x80060882"
E_MAX_LENGTH = "0x80044331"
E_UNEXPECTED = "0x80040216"


def bad_request(message: str, code: str = E_BAD_REQUEST) -> ApiError:
    """A 400 answer with the service's generic OData error code unless another is named."""
    return ApiError(400, code, message)


def not_found(table_logical_name: str, key: str) -> ApiError:
    """The 404 the service gives for a record id that does not exist."""
    return ApiError(404, E_NOT_FOUND, f"{table_logical_name} With Id = {key} Does Not Exist")


def version_mismatch() -> ApiError:
    """The 412 for an ``If-Match`` ETag that is not the record's current version."""
    return ApiError(
        412, E_VERSION_MISMATCH, "The version of the existing record doesn't match the RowVersion property provided."
    )


def duplicate() -> ApiError:
    """The 412 for a create whose key is already taken."""
    return ApiError(412, E_DUPLICATE, "A record with matching key values already exists.")


def normalize_guid(text: str) -> str | None:
    """``text`` as a lower-case hyphenated GUID, or None when it is not one."""
    try:
        return str(uuid.UUID(text.strip().strip("{}")))
    except (ValueError, AttributeError):
        return None


def parse_prefer(header: str) -> dict[str, str]:
    """The ``Prefer`` header's preferences, by lower-case name (value ``""`` when bare).

    Commas inside double quotes belong to the value (``odata.include-annotations="a,b"``).
    """
    prefs: dict[str, str] = {}
    for item in re.findall(r'(?:[^,"]|"[^"]*")+', header or ""):
        name, _, value = item.strip().partition("=")
        if name.strip():
            prefs[name.strip().lower()] = value.strip().strip('"')
    return prefs


def etag(row: Mapping[str, Any]) -> str:
    """A stored row's weak ETag (its version number)."""
    return f'W/"{row["_version"]}"'


def etag_matches(header: str, row: Mapping[str, Any]) -> bool:
    """Whether an ``If-Match``/``If-None-Match`` list names the row's current version."""
    current = str(row["_version"])
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag.strip('"') == current:
            return True
    return False


def conditional(headers: Mapping[str, str], name: str) -> str | None:
    """An ``If-Match``/``If-None-Match`` header's value, or None when absent."""
    # Microsoft's samples send ``If-None-Match: null`` on every request: it means "none".
    value = headers.get(name)
    if value is None or value.strip().lower() in ("", "null"):
        return None
    return value.strip()
