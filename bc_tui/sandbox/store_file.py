"""The SQL the sandbox store runs on its file: open, read, write rows and chunks, commit.

``EntityStore`` (``store``) keeps the rows in memory and decides *what* to write; this module
knows *how* it lands in SQLite (the layout is ``data_format``'s). Nothing here holds state
of its own: every function takes the connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

from .data_format import Deaths, SandboxDataError, check_paths, damaged, encode_chunk, set_up

#: How many bulk-loaded rows share one chunk record.
CHUNK_ROWS = 10_000

_INSERT_CHUNK = "INSERT INTO entity(entity_set, key, version, data) VALUES (?, NULL, ?, ?)"
_UPSERT_ENTITY = (
    "INSERT INTO entity(entity_set, key, version, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(entity_set, key) DO UPDATE SET version = excluded.version, data = excluded.data"
)
_SET_META = "INSERT INTO meta(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"

_encode = json.JSONEncoder(check_circular=False, separators=(",", ":")).encode

#: SQLite's default for ``PRAGMA wal_autocheckpoint``.
_AUTOCHECKPOINT_PAGES = 1000

Tombstones = dict[str, list[tuple[str, int, str]]]


def open_file(path: Path, load: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """Open (or create) the file and run ``load`` in one read transaction; ``SandboxDataError`` if unusable."""
    check_paths(path)
    try:
        # isolation_level=None: the store issues BEGIN/SAVEPOINT/COMMIT itself (see EntityStore.atomic()).
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
    except sqlite3.Error as error:
        raise damaged(path, f"SQLite says {error}") from None
    try:
        db.execute("PRAGMA journal_mode=WAL")  # a reader (the server) never blocks the `edit` CLI
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")  # two processes opening a new file must not both set it up
        try:
            set_up(db, path)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        # One read transaction: meta, rows and data_version must describe the same moment, or a
        # commit landing in between is taken as loaded and its versions are handed out again.
        db.execute("BEGIN")
        try:
            load(db)
        finally:
            db.execute("COMMIT")
    except sqlite3.OperationalError as error:
        db.close()
        if "locked" in str(error) or "busy" in str(error):
            # Another process held the file for longer than the busy timeout: not damage.
            raise SandboxDataError(
                f"The sandbox data folder {path.parent} is busy (SQLite: {error}); "
                "let the other bc-tui that uses it finish and try again.",
                repairable=False,
            ) from None
        raise damaged(path, f"SQLite says {error}") from None
    except (sqlite3.DatabaseError, ValueError) as error:
        db.close()
        raise damaged(path, f"SQLite says {error}" if isinstance(error, sqlite3.Error) else str(error)) from None
    except BaseException:
        db.close()
        raise
    return db


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    """The file's ``meta`` table: version, modified, generation."""
    return dict(db.execute("SELECT name, value FROM meta").fetchall())


def read_data_version(db: sqlite3.Connection) -> int:
    """SQLite's ``PRAGMA data_version``: it changes when another connection commits."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def read_tombstones(db: sqlite3.Connection, since: int, into: Tombstones) -> Deaths:
    """Append the tombstones newer than ``since`` to ``into``; return them by set and key."""
    deaths: Deaths = {}
    for entity_set, key, version, modified in db.execute(
        "SELECT entity_set, key, version, modified FROM tombstone WHERE version > ? ORDER BY version", (since,)
    ):
        into.setdefault(entity_set, []).append((key, version, modified))
        deaths.setdefault(entity_set, {}).setdefault(key, []).append(version)
    return deaths


def read_records(db: sqlite3.Connection, since: int) -> sqlite3.Cursor:
    """``(entity_set, key, data)`` of the records written after version ``since``, in file order."""
    if since == 0:
        return db.execute("SELECT entity_set, key, data FROM entity ORDER BY pos")
    return db.execute("SELECT entity_set, key, data FROM entity WHERE version > ? ORDER BY pos", (since,))


def committed_version(db: sqlite3.Connection) -> int:
    """The version counter as the file holds it (read inside the write transaction)."""
    row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
    return int(row[0]) if row else 0


def write_meta(db: sqlite3.Connection, version: int, modified: str, generation: int) -> None:
    """Record the store's counters in the file."""
    db.executemany(_SET_META, (("version", str(version)), ("modified", modified), ("generation", str(generation))))


def write_row(db: sqlite3.Connection, entity_set: str, key: str, stored: dict[str, Any]) -> None:
    """Store one row as its own record (it wins over a bulk chunk's copy: higher version)."""
    db.execute(_UPSERT_ENTITY, (entity_set, key, stored["_version"], _encode(stored)))


def write_deletion(db: sqlite3.Connection, entity_set: str, key: str, version: int, modified: str) -> None:
    """Remove a row's record and leave a tombstone (which also hides a bulk chunk's copy)."""
    db.execute("DELETE FROM entity WHERE entity_set = ? AND key = ?", (entity_set, key))
    db.execute(
        "INSERT INTO tombstone(entity_set, key, version, modified) VALUES (?, ?, ?, ?)",
        (entity_set, key, version, modified),
    )


def write_chunks(db: sqlite3.Connection, entity_set: str, pairs: list[tuple[str, dict[str, Any]]], first: int) -> None:
    """Write bulk-loaded rows as JSON chunks of ``CHUNK_ROWS``; ``first`` is the version before them.

    SQLite lets go of the GIL while it writes, so one thread writes chunk n while this one
    encodes chunk n + 1. Nothing else touches the connection meanwhile: the caller holds the
    store's lock.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-bulk-load") as writer:
        written: list[Future[Any]] = []
        for at in range(0, len(pairs), CHUNK_ROWS):
            chunk = pairs[at : at + CHUNK_ROWS]
            text = encode_chunk(chunk)
            written.append(writer.submit(db.execute, _INSERT_CHUNK, (entity_set, first + at + len(chunk), text)))
        for future in written:
            future.result()  # the first failure rolls the load back


def clear_rows(db: sqlite3.Connection) -> None:
    """Remove every record and tombstone."""
    db.execute("DELETE FROM entity")
    db.execute("DELETE FROM tombstone")


def commit(db: sqlite3.Connection, path: Path | None, after_bulk: bool) -> None:
    """COMMIT; after a bulk load, copy the write-ahead log into the file in the background.

    SQLite would otherwise do that copy (and its fsync) inside COMMIT, the last half
    second of a big seed. A checkpoint never blocks this connection's readers or writers.
    """
    if not after_bulk or path is None:
        db.execute("COMMIT")
        return
    db.execute("PRAGMA wal_autocheckpoint=0")
    try:
        db.execute("COMMIT")
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")

    def checkpoint() -> None:
        try:
            with closing(sqlite3.connect(str(path), timeout=10.0)) as other:
                other.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the next commit's automatic checkpoint does it instead

    threading.Thread(target=checkpoint, name="sandbox-checkpoint", daemon=True).start()
