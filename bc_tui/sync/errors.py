"""The one error type the use cases raise: a plain sentence the TUI and the CLI show as is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bc_tui.connectors.errors import AuthenticationFailed, ConnectorError
from bc_tui.store.errors import StoreError

__all__ = [
    "AuthenticationFailed",
    "ConnectorError",
    "EXPECTED_ERRORS",
    "StoreError",
    "SyncError",
    "as_sync_error",
    "plain",
]


class SyncError(Exception):
    """A use case cannot do what was asked; ``str(error)`` is one sentence naming the record,
    the cause and the next step (never a traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


EXPECTED_ERRORS: tuple[type[Exception], ...] = (SyncError, ConnectorError, StoreError)
"""The errors whose message is the sentence to show as is (anything else is a bug)."""


def plain(error: BaseException) -> str:
    """The user-facing sentence of a connector, store or sync error (its message, nothing more)."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(message).strip()


@contextmanager
def as_sync_error() -> Iterator[None]:
    """Turn connector and store errors raised inside the block into :class:`SyncError`."""
    try:
        yield
    except SyncError:
        raise
    except (ConnectorError, StoreError) as error:
        raise SyncError(plain(error)) from error
