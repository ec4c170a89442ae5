"""The sandbox's entity store: every emulated table, in memory, written through to SQLite.

CONTRACT (implemented by the sandbox-core work; used by bc_api.py and dataverse_api.py):

- Entity sets are named ``"bc/companies"``, ``"bc/customers"``, ``"bc/contacts"``,
  ``"dv/accounts"``, ``"dv/contacts"``, ``"dv/systemusers"``.
- Rows are plain dicts of JSON-native values (str, int, float, bool, None). Datetimes are
  ISO-8601 UTC strings with microseconds and a ``Z`` (``2026-11-23T22:18:36.123456Z``).
- The store maintains two system fields on every row it writes:
  ``_version`` (int, one counter global to the store, strictly increasing on every insert and
  update) and ``_modified`` (ISO string, strictly increasing too). The API modules map them
  onto ``@odata.etag`` / ``lastModifiedDateTime`` / ``versionnumber`` / ``modifiedon`` and
  never show underscore fields to clients.
- ``rows()`` returns the live dicts in key-insertion order; callers must not mutate them
  (copy before changing). ``insert``/``update`` return the stored row.
- ``atomic()`` makes everything inside all-or-nothing (memory and disk), and may be nested.
- With a file, another process (``bc-tui sandbox edit``) may change the data: the store
  notices via SQLite's ``PRAGMA data_version`` at ``refresh()`` (called by the app at the start
  of every request) and reloads.

Beyond the contract: ``deletions(entity_set, since_version)`` lists deleted keys (tombstones,
with the version and time of the deletion) for change tracking, and ``version`` is the last
version handed out.

On disk (``data_format.FORMAT``, recorded in SQLite's ``user_version``), table ``entity`` holds
*records* in the order they were first written (``pos``). A record is either one row (``key``
set, ``data`` its JSON) or a chunk of rows that ``bulk_load`` wrote together (``key`` NULL,
``data`` the chunk's JSON from ``data_format.encode_chunk``, ``version`` the chunk's highest).
One column-wise JSON text per 10,000 rows instead of one JSON document per row is what lets
500,000 demo rows open in a couple of seconds. Writing a bulk-loaded row again stores it as a
one-row record, which wins over the chunk's copy (higher version); deleting it leaves a
tombstone, which hides the chunk's copy.

The file is data only: nothing read from it can run code. A file in another format, or one
that SQLite or the JSON decoder can't read, is left alone and raises ``SandboxDataError``,
whose sentence names the folder and ``bc-tui sandbox reset`` as the fix.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from . import store_file
from .data_format import FORMAT, SandboxDataError, apply_records, damaged
from .store_clock import ONE_MICROSECOND, iso, iso_series, parse_iso, paused_gc, utcnow
from .store_file import CHUNK_ROWS

__all__ = ["FORMAT", "CHUNK_ROWS", "DuplicateKey", "EntityStore", "SandboxDataError", "paused_gc"]

#: One step of the in-memory undo log: a closure that puts memory back as it was (what it
#: returns, e.g. the popped row, is ignored).
_Undo = Callable[[], object]


class DuplicateKey(Exception):
    """An insert named a key that already exists in that entity set."""


def _first_duplicate(bucket: dict[str, Any], pairs: list[tuple[str, Any]]) -> str:
    """The first key of ``pairs`` that ``bucket`` holds or that comes twice."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in bucket or key in seen:
            return key
        seen.add(key)
    return ""


class EntityStore:
    """In-memory entity sets with write-through persistence (see module docstring).

    All public methods are thread-safe (one re-entrant lock); ``atomic()`` holds the lock for
    the whole transaction so that nothing interleaves with it.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self._sets: dict[str, dict[str, dict[str, Any]]] = {}
        self._tombstones: dict[str, list[tuple[str, int, str]]] = {}
        self._version = 0
        self._last_modified = datetime(1970, 1, 1)
        self._generation = 0
        self._depth = 0
        self._undo: list[_Undo] = []
        self._db: sqlite3.Connection | None = None
        self._data_version = 0
        #: The version counter as committed on disk when we last synchronised with the file;
        #: other connections' changes are the rows above it.
        self._synced_version = 0
        #: The open transaction wrote bulk chunks: checkpoint them off the request path.
        self._bulk_written = False
        if self.path is not None:
            self._open(self.path)

    # ------------------------------------------------------------------ disk

    def _open(self, path: Path) -> None:
        """Open (or create) the file and load it; ``SandboxDataError`` if it can't be used."""
        self._db = store_file.open_file(path, self._load_all)

    def _load_all(self, db: sqlite3.Connection) -> None:
        """Replace memory with the file's content (inside a read transaction on ``db``)."""
        data_version = store_file.read_data_version(db)  # first: never newer than what is loaded
        meta = store_file.read_meta(db)
        sets: dict[str, dict[str, dict[str, Any]]] = {}
        tombstones: store_file.Tombstones = {}
        deaths = store_file.read_tombstones(db, 0, tombstones)
        with paused_gc(int(meta.get("version", "0"))):
            apply_records(sets, store_file.read_records(db, 0), deaths)
        self._sets = sets
        self._tombstones = tombstones
        self._adopt_meta(meta)
        self._data_version = data_version

    def _adopt_meta(self, meta: dict[str, str]) -> None:
        self._generation = int(meta.get("generation", "0"))
        self._synced_version = int(meta.get("version", "0"))
        # max(): our own counter never goes backwards, even if the file's is behind.
        self._version = max(self._version, int(meta.get("version", "0")))
        if "modified" in meta:
            on_disk = parse_iso(meta["modified"])
            self._last_modified = max(self._last_modified, on_disk)

    def _catch_up(self) -> None:
        """Bring memory up to date with commits made by other connections since we last looked."""
        try:
            self._catch_up_unchecked()
        except (ValueError, sqlite3.DatabaseError) as error:  # the file went bad under us
            assert self.path is not None
            if isinstance(error, sqlite3.OperationalError):
                raise  # e.g. locked: not damage, and the caller's transaction handles it
            raise damaged(
                self.path, f"SQLite says {error}" if isinstance(error, sqlite3.Error) else str(error)
            ) from None

    def _catch_up_unchecked(self) -> None:
        db = self._db
        if db is None:
            return
        data_version = store_file.read_data_version(db)
        if data_version == self._data_version:
            return
        meta = store_file.read_meta(db)
        if int(meta.get("generation", "0")) != self._generation:
            self._load_all(db)  # someone cleared or reseeded: start over
            return
        known = self._synced_version
        deaths = store_file.read_tombstones(db, known, self._tombstones)
        apply_records(self._sets, store_file.read_records(db, known), deaths)
        self._adopt_meta(meta)
        self._data_version = data_version

    def _write_meta(self) -> None:
        assert self._db is not None
        store_file.write_meta(self._db, self._version, iso(self._last_modified), self._generation)

    # --------------------------------------------------------------- stamps

    def _stamp(self) -> tuple[int, str]:
        """Next (version, modified) pair; both strictly increase even if the clock stalls."""
        self._version += 1
        now = utcnow()
        if now <= self._last_modified:
            now = self._last_modified + ONE_MICROSECOND
        self._last_modified = now
        return self._version, iso(now)

    @property
    def version(self) -> int:
        """The last version handed out (0 for a new store)."""
        return self._version

    # ------------------------------------------------------------- reading

    def refresh(self) -> None:
        """Reload from disk if another connection changed the file since we last looked."""
        with self._lock:
            db = self._db
            if db is None or self._depth:
                return
            if store_file.read_data_version(db) == self._data_version:
                return  # the common case: one cheap PRAGMA per request
            db.execute("BEGIN")  # one consistent snapshot of meta, tombstones and rows
            try:
                self._catch_up()
            finally:
                db.execute("COMMIT")

    def rows(self, entity_set: str) -> Iterable[dict[str, Any]]:
        """The rows of ``entity_set`` in insertion order (a snapshot list of the live dicts)."""
        with self._lock:
            return list(self._sets.get(entity_set, {}).values())

    def count(self, entity_set: str) -> int:
        with self._lock:
            return len(self._sets.get(entity_set, {}))

    def get(self, entity_set: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._sets.get(entity_set, {}).get(key)

    def deletions(self, entity_set: str, since_version: int = 0) -> list[tuple[str, int, str]]:
        """``(key, version, modified)`` of rows deleted after ``since_version``, oldest first."""
        with self._lock:
            return [t for t in self._tombstones.get(entity_set, ()) if t[1] > since_version]

    # ------------------------------------------------------------- writing

    def insert(self, entity_set: str, key: str, row: dict[str, Any]) -> dict[str, Any]:
        """Store a new row (raise DuplicateKey if ``key`` exists); sets _version/_modified."""
        with self.atomic():
            bucket = self._sets.setdefault(entity_set, {})
            if key in bucket:
                raise DuplicateKey(f"{entity_set}({key}) already exists")
            version, modified = self._stamp()
            stored = {**row, "_version": version, "_modified": modified}
            bucket[key] = stored
            self._undo.append(lambda: bucket.pop(key, None))
            self._persist(entity_set, key, stored)
            return stored

    def update(self, entity_set: str, key: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the row (KeyError if absent); bumps _version/_modified."""
        with self.atomic():
            bucket = self._sets.get(entity_set, {})
            old = bucket.get(key)
            if old is None:
                raise KeyError(f"{entity_set}({key})")
            version, modified = self._stamp()
            # A new dict rather than in-place: the undo log keeps the old one, and readers
            # holding the old dict see a consistent row.
            stored = {**old, **changes, "_version": version, "_modified": modified}
            bucket[key] = stored
            self._undo.append(lambda: bucket.__setitem__(key, old))
            self._persist(entity_set, key, stored)
            return stored

    def delete(self, entity_set: str, key: str) -> None:
        """Remove the row (KeyError if absent)."""
        with self.atomic():
            bucket = self._sets.get(entity_set, {})
            if key not in bucket:
                raise KeyError(f"{entity_set}({key})")
            snapshot = dict(bucket)  # restoring must keep the row's place in insertion order
            del bucket[key]
            version, modified = self._stamp()
            tombstones = self._tombstones.setdefault(entity_set, [])
            tombstones.append((key, version, modified))

            def undo() -> None:
                bucket.clear()
                bucket.update(snapshot)
                tombstones.pop()

            self._undo.append(undo)
            if self._db is not None:
                store_file.write_deletion(self._db, entity_set, key, version, modified)
                self._write_meta()

    def _persist(self, entity_set: str, key: str, stored: dict[str, Any]) -> None:
        if self._db is not None:
            store_file.write_row(self._db, entity_set, key, stored)
            self._write_meta()

    def bulk_load(self, entity_set: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Insert many (key, row) pairs fast (demo data); returns how many.

        The store takes the row dicts over: it stamps ``_version``/``_modified`` into them and
        keeps them as the live rows (copying half a million rows would cost more than the rest
        of the load; rows that carry both keys already, with any value, take the stamps without
        growing). The rows reach the file as JSON chunks of ``CHUNK_ROWS``. A key that
        exists already, or twice, raises DuplicateKey and loads nothing.
        """
        with self.atomic(), paused_gc():
            bucket = self._sets.setdefault(entity_set, {})
            pairs = rows if isinstance(rows, list) else list(rows)
            if bucket and not bucket.keys().isdisjoint(key for key, _ in pairs):
                raise DuplicateKey(f"{entity_set}({_first_duplicate(bucket, pairs)}) already exists")
            before = len(bucket)
            bucket.update(pairs)
            self._undo.append(lambda: [bucket.pop(key, None) for key, _ in pairs])
            if len(bucket) != before + len(pairs):  # a key came twice
                raise DuplicateKey(f"{entity_set}({_first_duplicate({}, pairs)}) already exists")
            first = self._version
            # One clock reading for the whole load, one microsecond apart per row: reading the
            # clock per row costs more than the rest of the load.
            start = max(utcnow(), self._last_modified + ONE_MICROSECOND)
            for (_key, row), version, modified in zip(pairs, itertools.count(first + 1), iso_series(start)):
                row["_version"] = version
                row["_modified"] = modified
            if pairs:
                self._version = first + len(pairs)
                self._last_modified = start + ONE_MICROSECOND * (len(pairs) - 1)
            db = self._db
            if db is not None:
                store_file.write_chunks(db, entity_set, pairs, first)
                self._write_meta()
                self._bulk_written = True
            return len(pairs)

    def clear(self) -> None:
        """Remove every row of every entity set."""
        with self.atomic():
            sets, tombstones, generation = self._sets, self._tombstones, self._generation

            def undo() -> None:
                self._sets, self._tombstones, self._generation = sets, tombstones, generation

            self._undo.append(undo)
            self._sets, self._tombstones = {}, {}
            self._generation += 1  # tells other processes to reload everything
            if self._db is not None:
                store_file.clear_rows(self._db)
                self._write_meta()

    # -------------------------------------------------------- transactions

    def atomic(self) -> AbstractContextManager[None]:
        """All-or-nothing block (memory and disk); nests via SQLite savepoints."""
        return self._atomic()

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self._lock:
            depth = self._depth
            mark = len(self._undo)
            db = self._db
            if db is not None:
                if depth == 0:
                    db.execute("BEGIN IMMEDIATE")  # take the write lock now, then catch up
                    try:
                        self._catch_up()
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                else:
                    db.execute(f"SAVEPOINT sp{depth}")
            self._depth = depth + 1
            try:
                yield
            except BaseException:
                self._depth = depth
                while len(self._undo) > mark:
                    self._undo.pop()()
                if db is not None:
                    if depth == 0:
                        self._bulk_written = False
                        db.execute("ROLLBACK")
                    else:
                        db.execute(f"ROLLBACK TO sp{depth}")
                        db.execute(f"RELEASE sp{depth}")
                raise
            else:
                self._depth = depth
                if db is not None:
                    if depth == 0:
                        # Read before COMMIT, while we still hold the write lock: after it, another
                        # process's commit could already be in, and its rows would count as loaded
                        # (never reaching memory, and undone by our next write of them).
                        committed = store_file.committed_version(db)
                        after_bulk, self._bulk_written = self._bulk_written, False
                        store_file.commit(db, self.path, after_bulk=after_bulk)
                        self._synced_version = committed
                    else:
                        db.execute(f"RELEASE sp{depth}")
                if depth == 0:
                    self._undo.clear()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
