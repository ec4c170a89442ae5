"""The BC list's text search over several fields, without an ``or`` across fields.

Business Central refuses an ``or`` that joins conditions on two different fields
(docs/sandbox-fidelity.md, "Business Central API v2.0"), so the search asks one filter per field
(concurrently) and merges the answers in the list's order, each record once.

Why the merge is exact: every list is read in the same order, so a record at position ``p`` of
the union is at a position ``<= p`` in each field's own list. Reading each field's list up to
``start + size`` rows (or to its end) therefore holds the union's first ``start + size`` rows.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from bc_tui.sync.records import Record

#: Reads ``top`` rows of one field's filtered list from ``skip``, in the list's order.
PageReader = Callable[[str, int, int], Awaitable[list[Record]]]


def sort_key(fields: Sequence[str]) -> Callable[[Record], tuple[Any, ...]]:
    """The list's order as the service sorts it: each field case-insensitively, nulls first.

    Should a tenant's collation sort otherwise, the merge still yields every record once; only
    their order may differ from the single-filter list's."""

    def key(record: Record) -> tuple[Any, ...]:
        values = (record.get(name) for name in fields)
        return tuple((0, "") if v is None else (1, str(v).casefold()) for v in values)

    return key


class MergedSearch:
    """The union of several filtered lists of one table, read a page at a time and remembered."""

    def __init__(self, filters: Sequence[str], read: PageReader, key: Callable[[Record], Any]) -> None:
        self._filters = tuple(filters)
        self._read = read
        self._key = key
        self._rows: list[list[Record]] = [[] for _ in self._filters]
        self._done = [False for _ in self._filters]
        self._lock = asyncio.Lock()

    @property
    def complete(self) -> bool:
        """True once every field's list was read to its end."""
        return all(self._done)

    async def rows(self, start: int, size: int) -> list[Record]:
        """Rows ``start`` … ``start + size - 1`` of the union, in the list's order, each record once."""
        wanted = start + size
        async with self._lock:
            await asyncio.gather(*(self._extend(i, wanted) for i in range(len(self._filters))))
            merged = _unique(heapq.merge(*self._rows, key=self._key))
        return merged[start:wanted]

    async def count(self, size: int, count_one: Callable[[str], Awaitable[int]]) -> int | None:
        """How many records the search finds, or None when that cannot be known cheaply.

        Exact when they all fit in the first ``size`` rows (read now, for the first page), or
        when only one field finds anything (``count_one`` per filter: no record is found twice
        then). Otherwise the fields' counts may overlap, and only reading them all would tell."""
        counts, _ = await asyncio.gather(asyncio.gather(*(count_one(f) for f in self._filters)), self.rows(0, size))
        if self.complete:
            return len(_unique(heapq.merge(*self._rows, key=self._key)))
        finding = [n for n in counts if n]
        return finding[0] if len(finding) == 1 else None

    async def _extend(self, index: int, wanted: int) -> None:
        have = len(self._rows[index])
        if self._done[index] or have >= wanted:
            return
        chunk = await self._read(self._filters[index], have, wanted - have)
        self._rows[index].extend(chunk)
        self._done[index] = len(chunk) < wanted - have


def _unique(records: Iterable[Record]) -> list[Record]:
    """``records`` with each id once (a record found by two fields), first place kept."""
    seen: set[str] = set()
    kept: list[Record] = []
    for record in records:
        key = str(record.get("id") or "").lower()
        if key in seen:
            continue
        seen.add(key)
        kept.append(record)
    return kept


__all__ = ["MergedSearch", "PageReader", "sort_key"]
