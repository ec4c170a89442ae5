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

import gc
import itertools
import json
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .data_format import FORMAT, Deaths, SandboxDataError, apply_records, check_paths, damaged, encode_chunk, set_up

__all__ = ["FORMAT", "CHUNK_ROWS", "DuplicateKey", "EntityStore", "SandboxDataError", "paused_gc"]

_ONE_MICROSECOND = timedelta(microseconds=1)


def _utcnow() -> datetime:
    """Naive UTC now (naive so that isoformat() is fast and offset-free)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _iso(moment: datetime) -> str:
    """``2026-11-23T22:18:36.123456Z`` for a naive UTC datetime."""
    return moment.isoformat(timespec="microseconds") + "Z"


@contextmanager
def paused_gc(rows_hint: int = 0) -> Iterator[None]:
    """Pause the cyclic garbage collector while building many long-lived dicts.

    Each collection would scan every row built so far, making a big load quadratic; rows are
    never cyclic, so nothing is lost. After a big load the survivors are frozen so that later
    collections (during requests) skip them too.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        if rows_hint >= 50_000:
            gc.freeze()


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z"))


def _iso_series(start: datetime) -> Iterator[str]:
    """``_iso()`` of ``start`` and of every microsecond after it, endlessly.

    Formatting only the microseconds (the rest once per second) costs a fraction of
    ``_iso`` per row, which matters when stamping half a million rows.
    """
    second = start.replace(microsecond=0)
    micro = start.microsecond
    while True:
        prefix = second.isoformat(timespec="seconds") + "."
        for us in range(micro, 1_000_000):
            yield f"{prefix}{us:06d}Z"
        second += timedelta(seconds=1)
        micro = 0


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

#: One step of the in-memory undo log: a closure that puts memory back as it was.
_Undo = Callable[[], None]


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
        check_paths(path)
        try:
            # isolation_level=None: we issue BEGIN/SAVEPOINT/COMMIT ourselves (see atomic()).
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
            self._db = db
            # One read transaction: meta, rows and data_version must describe the same moment, or a
            # commit landing in between is taken as loaded and its versions are handed out again.
            db.execute("BEGIN")
            try:
                self._load_all()
            finally:
                db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            db.close()
            self._db = None
            if "locked" in str(error) or "busy" in str(error):
                # Another process held the file for longer than the busy timeout: not damage.
                raise SandboxDataError(
                    f"The sandbox data folder {path.parent} is busy (SQLite: {error}); "
                    "let the other bc-tui that uses it finish and try again.", repairable=False) from None
            raise damaged(path, f"SQLite says {error}") from None
        except (sqlite3.DatabaseError, ValueError) as error:
            db.close()
            self._db = None
            raise damaged(path, f"SQLite says {error}" if isinstance(error, sqlite3.Error) else str(error)) from None
        except BaseException:
            db.close()
            self._db = None
            raise

    def _meta(self) -> dict[str, str]:
        assert self._db is not None
        return dict(self._db.execute("SELECT name, value FROM meta").fetchall())

    def _load_all(self) -> None:
        """Replace memory with the file's content."""
        assert self._db is not None
        data_version = self._read_data_version()  # first: never newer than what is loaded
        meta = self._meta()
        sets: dict[str, dict[str, dict[str, Any]]] = {}
        tombstones: dict[str, list[tuple[str, int, str]]] = {}
        deaths = self._read_tombstones(0, tombstones)
        with paused_gc(int(meta.get("version", "0"))):
            apply_records(sets, self._db.execute("SELECT entity_set, key, data FROM entity ORDER BY pos"), deaths)
        self._sets = sets
        self._tombstones = tombstones
        self._adopt_meta(meta)
        self._data_version = data_version

    def _read_tombstones(self, since: int, into: dict[str, list[tuple[str, int, str]]]) -> Deaths:
        """Append the tombstones newer than ``since`` to ``into``; return them by set and key."""
        assert self._db is not None
        deaths: Deaths = {}
        for entity_set, key, version, modified in self._db.execute(
            "SELECT entity_set, key, version, modified FROM tombstone WHERE version > ? ORDER BY version", (since,)
        ):
            into.setdefault(entity_set, []).append((key, version, modified))
            deaths.setdefault(entity_set, {}).setdefault(key, []).append(version)
        return deaths

    def _adopt_meta(self, meta: dict[str, str]) -> None:
        self._generation = int(meta.get("generation", "0"))
        self._synced_version = int(meta.get("version", "0"))
        # max(): our own counter never goes backwards, even if the file's is behind.
        self._version = max(self._version, int(meta.get("version", "0")))
        if "modified" in meta:
            on_disk = _parse_iso(meta["modified"])
            self._last_modified = max(self._last_modified, on_disk)

    def _read_data_version(self) -> int:
        assert self._db is not None
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _catch_up(self) -> None:
        """Bring memory up to date with commits made by other connections since we last looked."""
        try:
            self._catch_up_unchecked()
        except (ValueError, sqlite3.DatabaseError) as error:  # the file went bad under us
            assert self.path is not None
            if isinstance(error, sqlite3.OperationalError):
                raise  # e.g. locked: not damage, and the caller's transaction handles it
            raise damaged(self.path, f"SQLite says {error}" if isinstance(error, sqlite3.Error) else str(error)) from None

    def _catch_up_unchecked(self) -> None:
        if self._db is None:
            return
        data_version = self._read_data_version()
        if data_version == self._data_version:
            return
        meta = self._meta()
        if int(meta.get("generation", "0")) != self._generation:
            self._load_all()  # someone cleared or reseeded: start over
            return
        known = self._synced_version
        deaths = self._read_tombstones(known, self._tombstones)
        records = self._db.execute("SELECT entity_set, key, data FROM entity WHERE version > ? ORDER BY pos", (known,))
        apply_records(self._sets, records, deaths)
        self._adopt_meta(meta)
        self._data_version = data_version

    def _write_meta(self) -> None:
        assert self._db is not None
        self._db.executemany(
            _SET_META,
            (("version", str(self._version)), ("modified", _iso(self._last_modified)),
             ("generation", str(self._generation))),
        )

    # --------------------------------------------------------------- stamps

    def _stamp(self) -> tuple[int, str]:
        """Next (version, modified) pair; both strictly increase even if the clock stalls."""
        self._version += 1
        now = _utcnow()
        if now <= self._last_modified:
            now = self._last_modified + _ONE_MICROSECOND
        self._last_modified = now
        return self._version, _iso(now)

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
            if self._read_data_version() == self._data_version:
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
                self._db.execute("DELETE FROM entity WHERE entity_set = ? AND key = ?", (entity_set, key))
                self._db.execute(
                    "INSERT INTO tombstone(entity_set, key, version, modified) VALUES (?, ?, ?, ?)",
                    (entity_set, key, version, modified),
                )
                self._write_meta()

    def _persist(self, entity_set: str, key: str, stored: dict[str, Any]) -> None:
        if self._db is not None:
            self._db.execute(_UPSERT_ENTITY, (entity_set, key, stored["_version"], _encode(stored)))
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
            start = max(_utcnow(), self._last_modified + _ONE_MICROSECOND)
            for (_key, row), version, modified in zip(pairs, itertools.count(first + 1), _iso_series(start)):
                row["_version"] = version
                row["_modified"] = modified
            if pairs:
                self._version = first + len(pairs)
                self._last_modified = start + _ONE_MICROSECOND * (len(pairs) - 1)
            db = self._db
            if db is not None:
                # SQLite lets go of the GIL while it writes, so one thread writes chunk n while
                # this one encodes chunk n + 1. Nothing else touches the connection meanwhile:
                # we hold the store's lock.
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-bulk-load") as writer:
                    written: list[Future[Any]] = []
                    for at in range(0, len(pairs), CHUNK_ROWS):
                        chunk = pairs[at:at + CHUNK_ROWS]
                        text = encode_chunk(chunk)
                        written.append(writer.submit(db.execute, _INSERT_CHUNK, (entity_set, first + at + len(chunk), text)))
                    for future in written:
                        future.result()  # the first failure rolls the load back
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
                self._db.execute("DELETE FROM entity")
                self._db.execute("DELETE FROM tombstone")
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
                        row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
                        self._commit(db)
                        self._synced_version = int(row[0]) if row else 0
                    else:
                        db.execute(f"RELEASE sp{depth}")
                if depth == 0:
                    self._undo.clear()

    def _commit(self, db: sqlite3.Connection) -> None:
        """COMMIT; after a bulk load, copy the write-ahead log into the file in the background.

        SQLite would otherwise do that copy (and its fsync) inside COMMIT, the last half
        second of a big seed. A checkpoint never blocks this connection's readers or writers.
        """
        if not self._bulk_written:
            db.execute("COMMIT")
            return
        self._bulk_written = False
        db.execute("PRAGMA wal_autocheckpoint=0")
        try:
            db.execute("COMMIT")
        finally:
            db.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
        path = self.path

        def checkpoint() -> None:
            try:
                with closing(sqlite3.connect(str(path), timeout=10.0)) as other:
                    other.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # the next commit's automatic checkpoint does it instead

        threading.Thread(target=checkpoint, name="sandbox-checkpoint", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
