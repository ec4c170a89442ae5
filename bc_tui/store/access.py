"""The one owner of coupling-database access while a session is open: a single worker thread.

Every store call is synchronous I/O. Run on Textual's (or the CLI's) event loop, a busy
database (another process holding SQLite's write lock up to the busy timeout, a slow
PostgreSQL server) would freeze the screen. The session therefore runs every store call on
this thread and awaits it, so the loop keeps drawing and answering keys meanwhile.

One thread, not a pool: SQLite takes one writer at a time anyway, a transaction (a
``with atomic():`` block) must run wholly on the thread that began it (peewee keeps one
connection per thread), and calls keep the order in which they were awaited.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bc_tui.store import database

P = ParamSpec("P")
T = TypeVar("T")

THREAD_NAME_PREFIX = "bc-tui-db"


class DatabaseThread:
    """Runs store functions on one dedicated thread: ``await db(fn, *args, **kwargs)``."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME_PREFIX)
        self._ident: int | None = None
        self._closed = False

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the database thread and return (or raise) its outcome."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._run, fn, *args, **kwargs))

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """Queue ``fn`` on the database thread now and return its future without waiting.

        Calls run in the order they were submitted (one thread), so a job can queue its log
        writes while it goes on, and await them later.
        """
        return asyncio.wrap_future(self._executor.submit(functools.partial(self._run, fn, *args, **kwargs)))

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the database thread from synchronous code (outside an event loop), waiting for it."""
        return self._executor.submit(functools.partial(self._run, fn, *args, **kwargs)).result()

    def _run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        self._ident = threading.get_ident()
        return fn(*args, **kwargs)

    @property
    def ident(self) -> int | None:
        """The thread id of the database thread, once it has run something (tests check it)."""
        return self._ident

    def close(self) -> None:
        """Close this thread's connection to the database and stop the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._executor.submit(database.close).result()
        finally:
            self._executor.shutdown(wait=True)


__all__ = ["THREAD_NAME_PREFIX", "DatabaseThread"]
