"""The record lists' read model: one side of one table mapping, a page at a time, each record
with its coupling and sync state.

A list (``BcList`` in ``sync/bc_list.py``, ``DataverseList`` in ``sync/dataverse_list.py``)
shows one side of one table mapping under a :class:`~bc_tui.sync.list_query.ListQuery`; it is
immutable in its query (``with_query`` gives a new one). Nothing here loads a whole table:

- "Coupled" lists page through the coupling store and read those BC records by id; "not
  coupled" lists (and coupled lists with a text filter) scan the table's pages and keep the rows
  that qualify, remembering where each list page started in the table (count unknown).
- The coupling columns come from the coupling store, read-only, and one ``id eq … or …`` read
  of the coupled records of the page.

The TUI turns :class:`ListRow` into its rows; the CLI can list with the same classes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.sync_state import SyncState
from bc_tui.store.coupling_queries import couplings_by_bc_id, couplings_by_dataverse_id
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.records import Record, record_id
from bc_tui.sync.session import SyncSession

SessionGetter = Callable[[], "SyncSession | None"]
"""Called at every request, so a list can exist before the connection does (empty until then)."""

#: Rows read per request when scanning for coupled / not coupled records.
SCAN_CHUNK = 500


@dataclass(frozen=True)
class ListRow:
    """One record of a list with what its coupling says.

    ``key``: the record's normalized id; ``name``: its name (BC display name, the Dataverse
    table's name attribute). ``record``: its fields as read (a BC record deleted
    since it was coupled is rebuilt from the coupling and marked ``_missing``). ``counterpart``:
    the coupled record's name (BC side) or BC number (Dataverse side), "" when not coupled.
    ``state``: the pair's sync state (BC side, coupled records only). ``inside``: whether the
    record passes the table mapping's filter."""

    key: str
    name: str
    record: Record
    coupled: bool = False
    counterpart: str = ""
    state: SyncState | None = None
    inside: bool = True


def cell(record: Mapping[str, Any], field: str) -> str:
    """A field of a record as one trimmed string ("" for none)."""
    value = record.get(field)
    return "" if value is None else str(value).strip()


class MappingList:
    """What both sides share: the mapping, the query, the session and the scan bookmarks."""

    side: str = ""
    sort_titles: tuple[str, ...] = ()

    def __init__(
        self,
        session: SessionGetter,
        mapping_name: str,
        query: ListQuery | None = None,
        *,
        raw_page_size: int = 100,
    ) -> None:
        self.mapping_name = mapping_name
        self.query = query or ListQuery(sort=self.sort_titles[0])
        self._session = session
        self._raw_page_size = raw_page_size
        # Scanning lists: list index (a multiple of the page size) → raw offset where it starts.
        self._bookmarks: dict[tuple[int, int], int] = {}
        self._lock = asyncio.Lock()
        #: Keys of rows seen outside the mapping's table filter (they get no Dataverse actions).
        self.outside_filter: set[str] = set()

    def with_query(self, **changes: Any) -> MappingList:
        """A new list of the same table with the query changed (``text=``, ``coupled=``, ``sort=``)."""
        return type(self)(
            self._session,
            self.mapping_name,
            replace(self.query, **changes),
            raw_page_size=self._raw_page_size,
        )

    def invalidate(self) -> None:
        """Forget what was learnt about positions (called when the list refreshes its data)."""
        self._bookmarks.clear()

    async def count(self) -> int | None:
        """The number of rows, or None when unknown (0 while there is no session)."""
        opened = self._open()
        return 0 if opened is None else await self._count(*opened)

    async def page(self, start: int, size: int) -> list[ListRow]:
        """Rows ``start`` … ``start + size - 1`` with their coupling ([] while there is no session)."""
        opened = self._open()
        return [] if opened is None else await self._page(*opened, start, size)

    async def _count(self, session: SyncSession, mapping: TableMapping) -> int | None:
        raise NotImplementedError

    async def _page(self, session: SyncSession, mapping: TableMapping, start: int, size: int) -> list[ListRow]:
        raise NotImplementedError

    def _open(self) -> tuple[SyncSession, TableMapping] | None:
        session = self._session()
        if session is None:
            return None
        return session, session.mapping(self.mapping_name)

    # Scanning: the list is the raw table with only the rows for which `_keep` says yes.

    async def _raw(self, session: SyncSession, mapping: TableMapping, offset: int, size: int) -> list[Record]:
        raise NotImplementedError

    async def _keep(self, session: SyncSession, mapping: TableMapping, records: list[Record]) -> list[bool]:
        dataverse = self.side == "dataverse"
        ids = [record_id(mapping, r, dataverse=dataverse) for r in records]
        by_id = couplings_by_dataverse_id if dataverse else couplings_by_bc_id
        coupled = await session.db(by_id, mapping.name, ids)
        want = self.query.coupled is CoupledFilter.COUPLED
        return [(i in coupled) == want for i in ids]

    async def _scan(self, session: SyncSession, mapping: TableMapping, start: int, size: int) -> list[Record]:
        """Rows ``start`` … of the filtered list, reading the raw table from the nearest bookmark."""
        async with self._lock:
            known = [i for (s, i) in self._bookmarks if s == size and i <= start]
            index = max(known, default=0)
            offset = self._bookmarks.get((size, index), 0)
            found: list[Record] = []
            while len(found) < size:
                chunk = await self._raw(session, mapping, offset, SCAN_CHUNK)
                for record, keep in zip(chunk, await self._keep(session, mapping, chunk), strict=True):
                    offset += 1
                    if not keep:
                        continue
                    if index % size == 0:
                        self._bookmarks[(size, index)] = offset - 1
                    if index >= start:
                        found.append(record)
                        if len(found) == size:
                            break
                    index += 1
                if len(chunk) < SCAN_CHUNK:
                    break
            return found


__all__ = ["ListRow", "MappingList", "SCAN_CHUNK", "SessionGetter", "cell"]
