"""Opening the coupling database from a URL: a SQLite file by default, or PostgreSQL.

All models are bound to :data:`database_proxy`; :func:`connect` points it at the real database,
so the models are defined once whatever the backend.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlparse

import peewee
import platformdirs
from playhouse import db_url

from bc_tui.domain.text import shorten
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

#: What a database failure in the middle of a job looks like (peewee wraps most of the drivers'
#: errors; the drivers' own classes are listed for the few it lets through).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (peewee.PeeweeException, sqlite3.Error)
try:
    import psycopg2

    DATABASE_ERRORS += (psycopg2.Error,)
except ImportError:  # the postgres extra is not installed
    pass

#: Threads that must not run SQL (the UI loop's, in tests): their id → the refused statements.
#: See :class:`_GuardedQueries`.
_FORBIDDEN_THREADS: dict[int, list[str]] = {}


class QueryOnForbiddenThreadError(RuntimeError):
    """SQL was about to run on a thread declared free of database access (a programming error)."""


@contextmanager
def queries_forbidden_on_current_thread() -> Iterator[list[str]]:
    """Within this block, any SQL statement run on the calling thread raises
    :class:`QueryOnForbiddenThreadError`; the block gets the list of the refused statements.

    The session runs every store call on its database thread (store/access.py) so that the
    event loop never waits for the database; this makes that rule checkable (tests set it on
    the UI loop's thread and drive the app). The list is what a test asserts on: a screen may
    catch the error and show it as a sentence, so a refusal need not surface as an exception.
    """
    ident = threading.get_ident()
    if ident in _FORBIDDEN_THREADS:
        raise RuntimeError("queries are already forbidden on this thread")
    refused: list[str] = []
    _FORBIDDEN_THREADS[ident] = refused
    try:
        yield refused
    finally:
        del _FORBIDDEN_THREADS[ident]


class _GuardedQueries:
    """Mixin for peewee databases: refuse SQL on a thread in :data:`_FORBIDDEN_THREADS`."""

    def execute_sql(self, sql, params=None):  # type: ignore[no-untyped-def]
        refused = _FORBIDDEN_THREADS.get(threading.get_ident()) if _FORBIDDEN_THREADS else None
        if refused is not None:
            refused.append(shorten(sql, 120))
            raise QueryOnForbiddenThreadError(
                f"SQL ran on {threading.current_thread().name}, a thread declared free of database "
                f"access; run the store call through session.db: {shorten(sql, 120)}"
            )
        return super().execute_sql(sql, params)  # type: ignore[misc]


class GuardedSqliteDatabase(_GuardedQueries, peewee.SqliteDatabase):
    """peewee's SqliteDatabase with the no-SQL-on-this-thread guard."""


class GuardedPostgresqlDatabase(_GuardedQueries, peewee.PostgresqlDatabase):
    """peewee's PostgresqlDatabase with the no-SQL-on-this-thread guard."""


#: SQLite's first header bytes: anything else at the start of a non-empty file is not a database.
_SQLITE_MAGIC = b"SQLite format 3\x00"


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
    check_url(url)
    scheme = urlparse(url).scheme
    db: peewee.Database
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
        # SQLite opens lazily: make it touch the file now. (peewee's stubs leave execute_sql unannotated.)
        db.execute_sql("SELECT 1")  # type: ignore[no-untyped-call]
    except peewee.ImproperlyConfigured:
        raise StoreError(
            f"Cannot open the coupling database at {location(db)}: the PostgreSQL driver is not "
            "installed. Install bc-tui with the postgres extra (pip install 'bc-tui[postgres]')."
        ) from None
    except (peewee.DatabaseError, sqlite3.Error, OSError) as error:
        db.close()
        cause = _first_line(error)
        password = urlparse(url).password
        if password:  # a driver may quote the connection string it was given
            cause = cause.replace(password, "***")
        hint = _CONFIG_HINT
        if any(word in cause.lower() for word in ("malformed", "not a database", "corrupt")):
            hint = "The file is damaged: restore it from a backup or move it aside to start afresh."
        raise StoreError(f"Cannot open the coupling database at {location(db)}: {cause}. {hint}") from None
    close()  # a previous database of this process is replaced, not leaked
    database_proxy.initialize(db)
    return db


def database_failure(error: BaseException, url: str | None = None) -> StoreError:
    """One sentence for a database error that happened while a job was writing.

    The statement that failed was part of a transaction that the database rolled back, so the
    sentence says that nothing of the failed step was saved and what to do about the cause.
    """
    where = f" at {redact(url)}" if url else ""
    if url and urlparse(url).scheme == "sqlite":
        where = f" at {db_url.parse(url)['database']}"
    text = _first_line(_root_cause(error))
    lowered = text.lower()
    if "is full" in lowered:
        cause, step = "the disk is full", "free some disk space and run the job again"
    elif "disk i/o error" in lowered:
        cause, step = (
            "the disk refused the write (full, failing, or over a size limit)",
            "free some disk space and run the job again",
        )
    elif "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
        cause, step = "it is read-only", "make the file and its folder writable and run the job again"
    elif "locked" in lowered or "busy" in lowered:
        cause, step = "another bc-tui process held it too long", "run the job again when that one has finished"
    elif "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        cause, step = "the file is damaged", "restore it from a backup or move it aside to start afresh"
    else:
        cause, step = text, "check the database and run the job again"
    return StoreError(
        f"Writing to the coupling database{where} failed because {cause}; the step that failed "
        f"was rolled back and what was saved before it stays consistent, so {step}."
    )


def check(url: str) -> None:
    """Raise :class:`StoreError` when ``url`` certainly cannot be used, without opening it.

    Commands call this before they start anything (the embedded sandbox, a job), so that a
    database path that is a folder, a read-only file or not a database is reported before
    anything is written.
    """
    check_url(url)
    if urlparse(url).scheme == "sqlite":
        path = db_url.parse(url)["database"]
        if path != ":memory:":
            _check_sqlite_file(Path(path).expanduser())


def check_url(url: str) -> None:
    """Raise :class:`StoreError` when ``url`` is not a database URL bc-tui can use."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
        params = db_url.parse(url)
    except (ValueError, TypeError) as error:
        raise StoreError(
            f"The database URL {shorten(redact(url))} is not a valid URL ({shorten(error, 80)}). {_CONFIG_HINT}"
        ) from None
    if parsed.scheme not in ("sqlite", "postgresql", "postgres"):
        raise StoreError(
            f"The database URL {shorten(redact(url))} is not supported: use sqlite:///path or "
            f"postgresql://user:password@host:port/database. {_CONFIG_HINT}"
        )
    if parsed.scheme == "sqlite" and (parsed.path in ("", "/") or not params.get("database")):
        # peewee would silently open a throwaway database, and every coupling would be lost.
        raise StoreError(
            f"The database URL {shorten(url)} names no file; use sqlite:///path/coupling.sqlite. {_CONFIG_HINT}"
        )


def _root_cause(error: BaseException) -> BaseException:
    """The database error that started it all.

    When SQLite rolls a transaction back by itself (it does on "database or disk is full"),
    the ROLLBACK that follows fails with "cannot rollback - no transaction is active", and that
    second error would hide the first one, which is what the user needs to hear.
    """
    seen: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and len(seen) < 10:
        seen.append(link)
        link = link.__cause__ or link.__context__
    for candidate in seen:
        if isinstance(candidate, DATABASE_ERRORS) and "cannot rollback" not in str(candidate).lower():
            return candidate
    return error


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
    """``url`` with any password replaced by ``***``, safe to show or log (even when malformed)."""
    try:
        parsed = urlparse(url)
        password = parsed.password
    except ValueError:  # e.g. an unclosed "[" or a port that is not a number
        return re.sub(r"(://[^/:@]*:)[^@]*@", r"\1***@", url, count=1)
    if not password:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return parsed._replace(netloc=netloc).geturl()


def _sqlite(url: str) -> peewee.SqliteDatabase:
    path = db_url.parse(url)["database"]
    if path == ":memory:":
        # One shared connection: per-thread connections would each see their own empty database.
        return GuardedSqliteDatabase(":memory:", pragmas=SQLITE_PRAGMAS, thread_safe=False, check_same_thread=False)
    file = Path(path).expanduser()
    _check_sqlite_file(file)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"Cannot open the coupling database at {file}: cannot create the folder "
            f"{file.parent} ({error.strerror or error}). {_CONFIG_HINT}"
        ) from None
    return GuardedSqliteDatabase(str(file), pragmas=SQLITE_PRAGMAS, timeout=BUSY_TIMEOUT_SECONDS)


def _writable(path: Path) -> bool:
    """Writable for this process, and not marked read-only for everyone.

    The mode bits are checked too because root may write any file: a file or folder that its
    owner made read-only (``chmod a-w``) is treated as a request to leave it alone.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.access(path, os.W_OK) and bool(mode & 0o222)


def _check_sqlite_file(file: Path) -> None:
    """Refuse, before anything is written, a path bc-tui could open but not safely write.

    SQLite would open a read-only file and fail only at the first write of a job, and in WAL
    mode it needs to create ``-wal`` and ``-shm`` files next to the database, so the folder
    must be writable too. A file that is not a database is named here rather than by the
    driver's terse "file is not a database".
    """
    if file.is_dir():
        raise StoreError(
            f"Cannot open the coupling database at {file}: it is a folder, not a file. "
            "Name a file in database_url (e.g. sqlite:///path/coupling.sqlite)."
        )
    if file.exists():
        try:
            with open(file, "rb") as handle:
                head = handle.read(len(_SQLITE_MAGIC))
        except OSError as error:
            raise StoreError(
                f"Cannot open the coupling database at {file}: {error.strerror or error}. Check the file's permissions."
            ) from None
        if head and head != _SQLITE_MAGIC:
            raise StoreError(
                f"Cannot open the coupling database at {file}: it is not a bc-tui coupling database "
                "(not an SQLite file). Restore it from a backup or move it aside to start afresh."
            )
        if not _writable(file):
            raise StoreError(
                f"Cannot open the coupling database at {file}: the file is read-only. Make it writable "
                "(chmod u+w) or point database_url at a copy."
            )
    folder = file.parent
    if folder.exists() and not folder.is_dir():
        raise StoreError(
            f"Cannot open the coupling database at {file}: {folder} is a file, not a folder. {_CONFIG_HINT}"
        )
    if folder.is_dir() and not _writable(folder):
        raise StoreError(
            f"Cannot open the coupling database at {file}: its folder {folder} is read-only, and SQLite "
            "needs to write its journal files there. Make the folder writable or move the database."
        )


def _postgresql(url: str) -> peewee.PostgresqlDatabase:
    params = db_url.parse(url, unquote_password=True, unquote_user=True)
    database = params.pop("database")
    if not database:
        raise StoreError(f"The database URL {redact(url)} names no database. {_CONFIG_HINT}")
    params.setdefault("connect_timeout", 5)  # an unreachable server fails fast, not after minutes
    return GuardedPostgresqlDatabase(database, **params)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.rstrip(".")
