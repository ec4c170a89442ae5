"""Reading what a service answered: error answers, ``Retry-After``, values a record holds.

Split from :mod:`bc_tui.connectors.odata` (which re-exports these names) to keep that module
about sending and retrying.
"""

from __future__ import annotations

import email.utils
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from .errors import (
    AlreadyExists,
    AuthenticationFailed,
    ChangedSinceRead,
    ConnectorError,
    InvalidRequest,
    NotFound,
    ServiceError,
    Throttled,
)
from .guard import server_words

Operation = Literal["read", "create", "update", "delete", "batch"]

#: Error codes the services use for "a record with this key already exists".
DUPLICATE_CODES = frozenset(
    {
        "Internal_EntityWithSameKeyExists",  # Business Central
        "0x80040237",  # Dataverse: DuplicateRecord
        "0x80060892",  # Dataverse: DuplicateRecordEntityKey
    }
)


def error_from(
    service: str,
    status: int,
    payload: Any,
    *,
    record: str | None = None,
    operation: Operation = "read",
    headers: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
) -> ConnectorError:
    """Turn an error answer (``{"error":{"code","message"}}``) into a ConnectorError.

    The service's message is quoted shortened, with control characters and ``secrets`` (and
    anything that looks like a token) removed: a service may echo what it was sent.
    """
    code: str | None = None
    text = ""
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), Mapping):
        code = _str_or_none(payload["error"].get("code"))
        if code is not None:
            code = server_words(code, secrets, limit=60)
        text = server_words(payload["error"].get("message"), secrets).strip()
    said = f": {text.rstrip('.')}" if text else ""
    what = server_words(record, limit=120) if record else "the record"
    kind, sentence = _kind_and_sentence(service, status, code, operation, what, said)
    if kind is Throttled:
        return Throttled(sentence, retry_after=retry_after_seconds(headers or {}), status=status, service_code=code)
    return kind(sentence, status=status, service_code=code)


def _kind_and_sentence(
    service: str, status: int, code: str | None, operation: Operation, what: str, said: str
) -> tuple[type[ConnectorError], str]:
    """Which ConnectorError an error answer is, and the sentence that tells the user."""
    if status == 401:
        return AuthenticationFailed, (
            f"{service} refused the access token{said}. Check that the app registration has access to this environment."
        )
    if status == 403:
        return AuthenticationFailed, (
            f"{service} does not allow this{said}. Check the app registration's permissions in {service}."
        )
    if code in DUPLICATE_CODES or status == 409 or (operation == "create" and status == 412):
        return AlreadyExists, f"{service} already has {what}{said}. Use the existing record or choose another key."
    if status == 404:
        if operation == "read":
            return NotFound, f"{service} has no {what}{said}; it may have been deleted, reload the list."
        return NotFound, f"{what[0].upper() + what[1:]} no longer exists in {service}{said}; reload the list."
    if status == 412:
        return ChangedSinceRead, (
            f"{what[0].upper() + what[1:]} was changed by someone else in {service} since it was read; "
            "reload it and try again."
        )
    if status == 424:
        # Batch only: this operation was fine but was rolled back or skipped with a failed one.
        return ConnectorError, (
            f"The {operation} of {what} in {service} was not saved because another change in the same batch "
            "failed; fix that one and run the job again."
        )
    if status == 429:
        return Throttled, f"{service} is busy and asked bc-tui to slow down{said}; try again in a few minutes."
    if status in (400, 405, 413, 414, 415, 422):
        return InvalidRequest, f"{service} rejected the request for {what}{said}. Correct the data and try again."
    if status == 503:
        return ServiceError, f"{service} is unavailable at the moment (HTTP 503{said}); try again in a few minutes."
    return ServiceError, f"{service} failed to handle the request for {what} (HTTP {status}{said}); try again later."


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None when absent or nonsense."""
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _same_value(current: Any, written: Any) -> bool:
    """Whether a field read back holds the value we wrote (numbers by value, "" equals null)."""
    if isinstance(current, (int, float)) and isinstance(written, (int, float)) and not isinstance(written, bool):
        return float(current) == float(written)
    if current in (None, "") and written in (None, ""):
        return True
    return bool(current == written)


def holds_values(row: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """True when ``row`` already carries every value in ``changes`` (binds checked by lookup id)."""
    for name, value in changes.items():
        if name.endswith("@odata.bind"):
            nav = name.split("@", 1)[0]
            target = str(value).rsplit("(", 1)[-1].rstrip(")").lower() if value else None
            candidates = [f"_{nav}_value"]
            if "_" in nav:
                candidates.append(f"_{nav.rsplit('_', 1)[0]}_value")
            found = next((row[c] for c in candidates if c in row), Ellipsis)
            if found is Ellipsis or (str(found).lower() if found else None) != target:
                return False
        elif name not in row or not _same_value(row[name], value):
            return False
    return True


def connect_cause(exc: httpx.TransportError) -> str:
    """A few plain words for why a connection could not be opened (looking down the cause chain)."""
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return "the connection timed out"
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(chain) < 10:
        chain.append(link)
        link = link.__cause__ or link.__context__
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "the connection was refused"
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "the host name could not be resolved"
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return "its TLS certificate could not be verified"
    text = str(exc)
    return text[0].lower() + text[1:] if text else type(exc).__name__
