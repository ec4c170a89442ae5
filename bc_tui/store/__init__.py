"""bc_tui.store: the coupling database (peewee; SQLite by default, PostgreSQL on request).

Start with :func:`open_store`; then use the functions of ``coupling_queries``,
``coupling_writes``, ``sync_state``, ``create_intents``, ``jobs``, ``mapping_store`` and
``watermarks``, which take and return the plain dataclasses of ``records``.
"""

from __future__ import annotations

import peewee

from bc_tui.store.database import connect
from bc_tui.store.mapping_store import ensure_table_mappings
from bc_tui.store.migrations import migrate


def open_store(url: str | None = None) -> peewee.Database:
    """Connect to the coupling database, bring its schema up to date and seed the table mappings.

    Raises :class:`bc_tui.store.errors.StoreError` (one plain sentence) when that fails.
    """
    db = connect(url)
    migrate(db)
    ensure_table_mappings()
    return db
