"""Typed errors of the connectors.

Every error carries ``message``: one plain sentence naming the service, the record when known,
the cause and the next step, so that the TUI and the CLI can show it as is (never a traceback).
"""

from __future__ import annotations

from .guard import redact


class ConnectorError(Exception):
    """A call to Business Central or Dataverse failed.

    ``status`` is the HTTP status when the service answered; ``service_code`` is the service's
    own error code (e.g. ``Internal_RecordNotFound`` or ``0x80040217``) when it sent one.
    """

    def __init__(self, message: str, *, status: int | None = None, service_code: str | None = None) -> None:
        # The net under every error path: whatever a sentence quotes, no bearer token, form
        # secret or URL password leaves the connectors (the client secret itself is removed
        # where it is known, see guard.server_words).
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.service_code = service_code

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ConnectorError):
    """The connection settings cannot be used (e.g. plain http to a non-loopback host)."""


class AuthenticationFailed(ConnectorError):
    """The token endpoint refused the credentials, or the service refused the token."""


class NotFound(ConnectorError):
    """The record (or the URL) does not exist."""


class ChangedSinceRead(ConnectorError):
    """412: the record was changed by someone else since it was read (stale ETag)."""


class AlreadyExists(ConnectorError):
    """A record with the same key (id or number) already exists."""


#: Dataverse's word for it; the same error.
DuplicateKey = AlreadyExists


class InvalidRequest(ConnectorError):
    """The service rejected the request as invalid (400 other than a duplicate key)."""


class Throttled(ConnectorError):
    """429: the service asks us to slow down; ``retry_after`` is in seconds when it said."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        service_code: str | None = None,
    ) -> None:
        super().__init__(message, status=status, service_code=service_code)
        self.retry_after = retry_after


class ServiceError(ConnectorError):
    """The service failed (5xx, 408, anything unexpected); ``message`` includes its own words."""


class Unreachable(ConnectorError):
    """The service could not be reached at all (connection refused, DNS, TLS, timeout)."""


class ConnectionLost(Unreachable):
    """The connection broke after a write was sent: it may or may not have been saved."""


class TimedOut(ConnectorError):
    """The service did not finish its answer within the request deadline (not retried)."""


class MalformedResponse(ConnectorError):
    """The service answered something that is not what its API documents."""
