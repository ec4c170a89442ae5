"""The precision at which each emulated service shows modified times.

The store stamps ``_modified`` with microseconds (strictly increasing). The real services are
coarser, and the sandbox must be no friendlier than they are, so that ties on the modified
time happen here as they do on a tenant:

- Dataverse ``modifiedon`` is whole seconds (``2026-11-23T22:18:36Z``);
- Business Central ``lastModifiedDateTime`` is an AL DateTime, kept in a SQL Server
  ``datetime`` column: milliseconds (SQL Server even rounds them to 1/300 s; truncating to the
  millisecond is as coarse for our purposes).

A BC tenant can show whole seconds too (``SandboxSettings.bc_modified_whole_seconds``), so
that bc-tui is tried with whole-second stamps on both sides.

Both are cut from the stored value (never rounded up), so the order of stamps is kept, only
ties are added. ``$filter`` and ``$orderby`` see the same coarse value as the client.
"""

from __future__ import annotations

from typing import Any

#: ``2026-11-23T22:18:36`` — the part of a stored stamp up to whole seconds.
_SECONDS = 19


def whole_seconds(stamp: Any) -> Any:
    """``2026-11-23T22:18:36.123456Z`` → ``2026-11-23T22:18:36Z`` (anything else unchanged)."""
    if isinstance(stamp, str) and len(stamp) > _SECONDS + 1 and stamp[_SECONDS] == ".":
        return stamp[:_SECONDS] + "Z"
    return stamp


def milliseconds(stamp: Any) -> Any:
    """``2026-11-23T22:18:36.123456Z`` → ``2026-11-23T22:18:36.123Z`` (anything else unchanged)."""
    if isinstance(stamp, str) and len(stamp) > _SECONDS + 5 and stamp[_SECONDS] == ".":
        return stamp[: _SECONDS + 4] + "Z"
    return stamp


def bc_modified(stamp: Any, *, whole: bool = False) -> Any:
    """BC's ``lastModifiedDateTime`` from a stored stamp: milliseconds, or whole seconds when ``whole``."""
    return whole_seconds(stamp) if whole else milliseconds(stamp)
