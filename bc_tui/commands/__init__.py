"""The headless subcommands of ``bc-tui``: status, couple, delete-coupling (alias uncouple), create, sync, match, log,
errors, retry, resolve, undo, history and web. Each module exposes ``register(subparsers)``; the handlers call the sync
engine, so every operation of the terminal app can be scripted too.
"""

from __future__ import annotations

from typing import Any


def register_all(subparsers: Any) -> None:
    """Add every headless subcommand to the CLI's subparsers (modules stay light to import)."""
    from bc_tui.commands import couple, errors, log, match, resolve, status, sync, undo, web

    for module in (status, couple, sync, match, log, errors, resolve, undo, web):
        module.register(subparsers)
