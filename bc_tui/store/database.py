"""Opening the coupling database from a URL: a SQLite file by default, or PostgreSQL.

All models are bound to :data:`database_proxy`; :func:`connect` points it at the real database,
so the models are defined once whatever the backend.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlparse

import peewee
import platformdirs
from playhouse import db_url

from bc_tui.store.errors import StoreError

database_proxy = peewee.DatabaseProxy()

#: How long a SQLite writer waits for another process's write transaction before giving up.
#: Every transaction of bc-tui is short (one chunk of results, no network call inside), so a
#: wait is normally milliseconds; the margin covers a slow disk or a checkpoint while the TUI,
#: a cron job and a colleague's job all write. Waiting is harmless, failing loses a job.
BUSY_TIMEOUT_SECONDS = 30

SQLITE_PRAGMAS: dict[str, object] = {
    "journal_mode": "wal",  # readers do not block the writer (the TUI reads while a job writes)
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,
    "synchronous": "normal",  # safe with WAL, and far faster for 10,000 small writes
}

#: SQLite write transactions take the write lock at BEGIN. A deferred transaction that reads
#: first and writes later cannot wait for the lock (in WAL mode SQLite answers "database is
#: locked" at once when another process committed since the read), so it would fail well inside
#: the busy timeout; BEGIN IMMEDIATE waits for the lock like any single statement does.
SQLITE_LOCK_TYPE = "IMMEDIATE"

_CONFIG_HINT = "Check database_url in your config."


def default_database_path() -> Path:
    """Where the coupling database lives when no URL is configured."""
    return Path(platformdirs.user_data_dir("bc-tui")) / "coupling.sqlite"


def connect(url: str | None = None) -> peewee.Database:
    """Open the coupling database named by ``url`` and bind the models to it.

    ``None`` means the SQLite file in the user's data directory. Accepted URLs:
    ``sqlite:///relative/path``, ``sqlite:////absolute/path``, ``sqlite:///:memory:``,
    ``postgresql://user:password@host:port/database`` (``postgres://`` too).
    Raises :class:`StoreError` with one plain sentence when the database cannot be opened.
    """
    if url is None:
        url = f"sqlite:///{default_database_path()}"
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        db = _sqlite(url)
    elif scheme in ("postgresql", "postgres"):
        db = _postgresql(url)
    else:
        raise StoreError(
            f"The database URL {redact(url)} is not supported: use sqlite:///path or "
            f"postgresql://user:password@host:port/database. {_CONFIG_HINT}"
        )
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")  # SQLite opens lazily: make it touch the file now
    except peewee.ImproperlyConfigured:
        raise StoreError(
            f"Cannot open the coupling database at {location(db)}: the PostgreSQL driver is not "
            "installed. Install bc-tui with the postgres extra (pip install 'bc-tui[postgres]')."
        ) from None
    except (peewee.DatabaseError, sqlite3.Error, OSError) as error:
        db.close()
        raise StoreError(
            f"Cannot open the coupling database at {location(db)}: {_first_line(error)}. {_CONFIG_HINT}"
        ) from None
    close()  # a previous database of this process is replaced, not leaked
    database_proxy.initialize(db)
    return db


def close() -> None:
    """Close the current thread's connection to the bound database, if any."""
    if database_proxy.obj is not None and not database_proxy.is_closed():
        database_proxy.close()


def atomic() -> AbstractContextManager[object]:
    """A write transaction (or a savepoint when nested) on the bound database.

    On SQLite the outermost one begins with ``BEGIN IMMEDIATE``: it waits (up to the busy
    timeout) for other processes' writers, then cannot fail for lack of the lock later on.
    """
    return write_transaction(database_proxy.obj) if database_proxy.obj is not None else database_proxy.atomic()


def write_transaction(db: peewee.Database) -> AbstractContextManager[object]:
    """``db.atomic()`` that takes SQLite's write lock up front (see :data:`SQLITE_LOCK_TYPE`)."""
    if isinstance(db, peewee.SqliteDatabase):
        return db.atomic(lock_type=SQLITE_LOCK_TYPE)
    return db.atomic()


def is_sqlite() -> bool:
    """True when the bound database is SQLite (some statements differ from PostgreSQL)."""
    return isinstance(database_proxy.obj, peewee.SqliteDatabase)


def location(db: peewee.Database) -> str:
    """Where ``db`` lives, for messages: a file path or a URL without the password."""
    if isinstance(db, peewee.SqliteDatabase):
        return str(db.database)
    params = db.connect_params
    host = params.get("host", "localhost")
    port = f":{params['port']}" if params.get("port") else ""
    user = f"{params['user']}@" if params.get("user") else ""
    return f"postgresql://{user}{host}{port}/{db.database}"


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe to show or log."""
    parsed = urlparse(url)
    if not parsed.password:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return parsed._replace(netloc=netloc).geturl()


def _sqlite(url: str) -> peewee.SqliteDatabase:
    path = db_url.parse(url)["database"]
    if path == ":memory:":
        # One shared connection: per-thread connections would each see their own empty database.
        return peewee.SqliteDatabase(
            ":memory:", pragmas=SQLITE_PRAGMAS, thread_safe=False, check_same_thread=False
        )
    file = Path(path).expanduser()
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"Cannot open the coupling database at {file}: cannot create the folder "
            f"{file.parent} ({error.strerror or error}). {_CONFIG_HINT}"
        ) from None
    return peewee.SqliteDatabase(str(file), pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_SECONDS)


def _postgresql(url: str) -> peewee.PostgresqlDatabase:
    params = db_url.parse(url, unquote_password=True, unquote_user=True)
    database = params.pop("database")
    if not database:
        raise StoreError(f"The database URL {redact(url)} names no database. {_CONFIG_HINT}")
    params.setdefault("connect_timeout", 5)  # an unreachable server fails fast, not after minutes
    return peewee.PostgresqlDatabase(database, **params)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rstrip(".")
