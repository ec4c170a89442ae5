"""How the TUI tells the user what happened: an error's sentence, "not connected", a result in
the status line. A leaf: the dialogs, the flows and the screens all use it, it uses none of them.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from textual.app import App

from bc_tui.sync.errors import EXPECTED_ERRORS, plain
from bc_tui.tui.backend import connected_session, not_connected_text
from bc_tui.tui.shown import notify

if TYPE_CHECKING:
    from bc_tui.sync.session import SyncSession

__all__ = ["error_sentence", "session_or_notify", "tell"]


def error_sentence(error: BaseException) -> str:
    """The sentence to show for ``error``: the engine's, connectors' and store's own sentence;
    anything else (a bug) is named without a traceback, with where to look."""
    if isinstance(error, EXPECTED_ERRORS):
        return plain(error)
    return f"Something went wrong ({type(error).__name__}: {plain(error)}); try again, and report it if it persists."


def session_or_notify(app: App[Any]) -> SyncSession | None:
    """The app's sync session, or None after telling the user why there is none and what to do."""
    session = connected_session(app)
    if session is not None:
        return session
    notify(app, not_connected_text(app), title="Not connected", severity="error")
    return None


def tell(app: App[Any], message: str) -> None:
    """Put a result in the main screen's status line (a notification where there is none)."""
    show = getattr(app, "show_message", None)
    if callable(show):
        # The main screen may not be there (other apps, tests): then a notification will do.
        with contextlib.suppress(Exception):
            show(message)
            return
    notify(app, message)
