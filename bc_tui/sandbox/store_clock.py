"""Time stamps for the sandbox store, and a pause of the garbage collector for big loads.

The store stamps every row it writes with ``_modified``, an ISO-8601 UTC string with
microseconds and a ``Z`` (``2026-11-23T22:18:36.123456Z``), strictly increasing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

ONE_MICROSECOND = timedelta(microseconds=1)


def utcnow() -> datetime:
    """Naive UTC now (naive so that isoformat() is fast and offset-free)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime) -> str:
    """``2026-11-23T22:18:36.123456Z`` for a naive UTC datetime."""
    return moment.isoformat(timespec="microseconds") + "Z"


def parse_iso(text: str) -> datetime:
    """The naive UTC datetime of an ``iso()`` string."""
    return datetime.fromisoformat(text.rstrip("Z"))


def iso_series(start: datetime) -> Iterator[str]:
    """``iso()`` of ``start`` and of every microsecond after it, endlessly.

    Formatting only the microseconds (the rest once per second) costs a fraction of
    ``iso`` per row, which matters when stamping half a million rows.
    """
    second = start.replace(microsecond=0)
    micro = start.microsecond
    while True:
        prefix = second.isoformat(timespec="seconds") + "."
        for us in range(micro, 1_000_000):
            yield f"{prefix}{us:06d}Z"
        second += timedelta(seconds=1)
        micro = 0


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
