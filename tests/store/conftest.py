"""Fixtures: every store test runs against SQLite in memory, a SQLite file and, when a server is
available (``BC_TUI_TEST_POSTGRES_URL``, see ``.ci/postgres.sh``), PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest

from bc_tui.store import database
from bc_tui.store.database import connect
from bc_tui.store.mapping_store import ensure_table_mappings
from bc_tui.store.migrations import migrate
from bc_tui.store.models import ALL_MODELS

POSTGRES_URL_VARIABLE = "BC_TUI_TEST_POSTGRES_URL"
NO_POSTGRES = "no PostgreSQL server: set BC_TUI_TEST_POSTGRES_URL (see .ci/postgres.sh)"


def database_url(kind: str, tmp_path: Path) -> str:
    """The URL of a fresh database of ``kind``; skips the test when PostgreSQL is not available."""
    if kind == "sqlite-memory":
        return "sqlite:///:memory:"
    if kind == "sqlite-file":
        return f"sqlite:///{tmp_path / 'coupling.sqlite'}"
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(NO_POSTGRES)
    return url


def wipe(db: peewee.Database) -> None:
    """Drop every store table, so a shared PostgreSQL database starts each test empty."""
    db.drop_tables(list(ALL_MODELS), safe=True, cascade=isinstance(db, peewee.PostgresqlDatabase))


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[peewee.Database]:
    """A connected database with no store tables at all."""
    db = connect(database_url(request.param, tmp_path))
    wipe(db)
    yield db
    database.close()


@pytest.fixture
def store(empty_db: peewee.Database) -> peewee.Database:
    """A database migrated to the current schema, with the default table mappings seeded."""
    migrate(empty_db)
    ensure_table_mappings()
    return empty_db
