"""Opening the coupling database: URLs, SQLite settings, and plain errors when it cannot open."""

from __future__ import annotations

import socket
from pathlib import Path

import peewee
import pytest

from bc_tui.store import database, open_store
from bc_tui.store.database import connect, default_database_path, redact
from bc_tui.store.errors import StoreError
from bc_tui.store.mapping_store import load_table_mappings


def test_default_url_is_a_sqlite_file_in_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    db = open_store(None)
    try:
        expected = tmp_path / "data-home" / "bc-tui" / "coupling.sqlite"
        assert default_database_path() == expected
        assert isinstance(db, peewee.SqliteDatabase)
        assert Path(db.database) == expected
        assert expected.is_file()  # the folders were created on the way
    finally:
        database.close()


def test_sqlite_file_gets_wal_foreign_keys_busy_timeout_and_normal_sync(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path / 'nested' / 'c.sqlite'}")
    try:
        pragma = lambda name: db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == database.BUSY_TIMEOUT_SECONDS * 1000
        assert pragma("synchronous") == 1  # NORMAL
    finally:
        database.close()


def test_a_sqlite_file_keeps_its_data_across_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    open_store(url)
    from bc_tui.store.coupling_queries import get_by_bc_id
    from bc_tui.store.coupling_writes import couple

    couple("CUSTOMER", "b1", "d1")
    database.close()
    open_store(url)
    try:
        assert get_by_bc_id("CUSTOMER", "b1") is not None
        assert [m.name for m in load_table_mappings()] == ["CUSTOMER", "CONTACT"]  # seeded once
    finally:
        database.close()


def test_unwritable_sqlite_path_is_one_plain_sentence(tmp_path: Path) -> None:
    # A file where a folder should be: fails for root too, unlike permission bits.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError) as caught:
        connect(f"sqlite:///{blocker / 'sub' / 'coupling.sqlite'}")
    message = str(caught.value)
    assert message.startswith(f"Cannot open the coupling database at {blocker / 'sub' / 'coupling.sqlite'}: ")
    assert message.endswith("Check database_url in your config.")
    assert "\n" not in message and "Traceback" not in message


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_postgresql_is_one_plain_sentence_without_the_password() -> None:
    port = _free_port()  # nothing listens there once the probe is closed
    with pytest.raises(StoreError) as caught:
        connect(f"postgresql://bc:secret-pw@127.0.0.1:{port}/coupling")
    message = str(caught.value)
    assert message.startswith(f"Cannot open the coupling database at postgresql://bc@127.0.0.1:{port}/coupling: ")
    assert "refused" in message.lower()
    assert message.endswith("Check database_url in your config.")
    assert "secret-pw" not in message and "\n" not in message


def test_unsupported_url_names_the_accepted_forms_and_hides_the_password() -> None:
    with pytest.raises(StoreError, match=r"^The database URL mysql://u:\*\*\*@h/db is not supported: use sqlite"):
        connect("mysql://u:pw@h/db")


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://u:p@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def test_memory_database_is_shared_by_threads() -> None:
    """Textual workers run in threads: they must see the same in-memory database."""
    import threading

    from bc_tui.store.coupling_queries import get_by_bc_id
    from bc_tui.store.coupling_writes import couple

    open_store("sqlite:///:memory:")
    try:
        couple("CUSTOMER", "b1", "d1")
        seen: list[object] = []
        thread = threading.Thread(target=lambda: seen.append(get_by_bc_id("CUSTOMER", "b1")))
        thread.start()
        thread.join()
        assert seen[0] is not None
    finally:
        database.close()


def test_timestamps_come_back_utc_aware(store: peewee.Database) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.store.coupling_writes import couple
    from bc_tui.store.records import SyncResult, SyncResultUpdate
    from bc_tui.store.sync_state import record_sync_result

    coupling = couple("CUSTOMER", "b1", "d1")
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=plus_two)
    record = record_sync_result(
        SyncResultUpdate(coupling.id, SyncDirection.TO_DATAVERSE, SyncResult.SUCCESS, bc_modified_at=written)
    )
    from bc_tui.store.coupling_queries import get_coupling

    stored = get_coupling(record.id)
    assert stored is not None and stored.bc_modified_at == written
    assert stored.bc_modified_at.tzinfo == UTC and stored.bc_modified_at.hour == 10
    assert stored.created_at is not None and stored.created_at.tzinfo == UTC
    with pytest.raises(ValueError, match="naive"):
        record_sync_result(
            SyncResultUpdate(
                coupling.id, SyncDirection.TO_DATAVERSE, SyncResult.SUCCESS, bc_modified_at=datetime(2025, 1, 1)
            )
        )
