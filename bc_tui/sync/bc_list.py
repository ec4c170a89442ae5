"""Business Central customers or contacts of one table mapping, a page at a time, with their
coupling and sync state (the read model of ``sync/lists.py``).

Business Central pages with ``$skip``/``$top``/``$orderby`` and counts with ``$count``; the
"coupled" list pages through the coupling store instead.
"""

from __future__ import annotations

from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.domain.filters import passes
from bc_tui.domain.mappings import TableMapping
from bc_tui.store.coupling_queries import count_couplings, couplings_by_bc_id, iter_couplings
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.bc_search import MergedSearch, sort_key
from bc_tui.sync.errors import as_sync_error
from bc_tui.sync.list_query import SORTS, CoupledFilter, number_order
from bc_tui.sync.lists import ListRow, MappingList, cell
from bc_tui.sync.pair_state import coupled_pair_state
from bc_tui.sync.records import (
    Record,
    bc_fields,
    bc_kind,
    dataverse_fields,
    fetch_bc,
    fetch_dataverse,
    pages,
    record_id,
    to_record,
)
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE

#: Up to this many records, the "No." order is numeric: the list reads every (id, number) once
#: and orders them itself; Business Central's ``$orderby=number`` is text order
#: (docs/coupling-and-sync.md "The order of numbers").
NUMBER_ORDER_LIMIT = 10_000


class BcList(MappingList):
    """Business Central customers or contacts of one table mapping, with their coupling state.

    Keys are the records' SystemIds (normalized). Records outside the mapping's table filter
    (e.g. blocked customers) are marked ``inside=False`` and collected in ``outside_filter``.
    """

    side = "bc"
    sort_titles = tuple(title for title, _, _ in SORTS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coupled: list[CouplingRecord] | None = None  # the "coupled" list, read once
        self._searched: MergedSearch | None = None  # the text search's rows, read once
        self._numbered: list[str] | None = None  # ids in numeric "No." order (small tables)
        self._numbered_read = False

    def invalidate(self) -> None:
        """Forget positions and the coupled list read so far."""
        super().invalidate()
        self._coupled = None
        self._searched = None
        self._numbered = None
        self._numbered_read = False

    async def _number_index(self, session: SyncSession, mapping: TableMapping) -> list[str] | None:
        """The ids of the whole table in numeric "No." order, read once (id and number only),
        or None when the list is not sorted by No. alone or the table is above
        `NUMBER_ORDER_LIMIT` (then Business Central's own text order stands)."""
        if self.query.sort != "No." or self.query.text.strip() or self.query.coupled is not CoupledFilter.ALL:
            return None
        async with self._lock:
            if not self._numbered_read:
                with as_sync_error():
                    total = await session.bc.count(bc_kind(mapping))
                if total <= NUMBER_ORDER_LIMIT:
                    numbers: list[tuple[str, str]] = []
                    async for page in pages(BC_SIDE, session, mapping, select=("id", "number"), table_filter=False):
                        numbers.extend((record_id(mapping, r, dataverse=False), cell(r, "number")) for r in page)
                    numbers.sort(key=lambda pair: (number_order(pair[1]), pair[0]))
                    self._numbered = [key for key, _ in numbers]
                self._numbered_read = True
            return self._numbered

    def _select(self, mapping: TableMapping) -> tuple[str, ...]:
        shown = ("number", "displayName", "city", "phoneNumber", "email")
        filtered = tuple(c.field for c in mapping.table_filter)
        return tuple(dict.fromkeys((*bc_fields(mapping), *shown, *filtered)))

    def _orderby(self) -> str:
        field = next((bc for title, bc, _ in SORTS if title == self.query.sort), "number")
        return field if field == "number" else f"{field},number"

    def _text_filters(self) -> tuple[str, ...]:
        """One filter per searched field (BC refuses an ``or`` across fields: see ``bc_search``).

        Case is ignored with ``tolower`` so that the search finds the same records whether the
        tenant compares text case-sensitively or not."""
        text = self.query.text.strip()
        if not text:
            return ()
        return (
            odata.startswith("displayName", text, ignore_case=True),
            odata.startswith("number", text, ignore_case=True),
            odata.contains("email", text, ignore_case=True),
        )

    def _search(self, session: SyncSession, mapping: TableMapping) -> MergedSearch:
        """The merged per-field search of the current text, kept until ``invalidate``."""
        if self._searched is None:

            async def read(filter: str, skip: int, top: int) -> list[Record]:
                with as_sync_error():
                    rows = await session.bc.page(
                        bc_kind(mapping),
                        top=top,
                        skip=skip,
                        filter=filter,
                        select=self._select(mapping),
                        orderby=self._orderby(),
                    )
                return [to_record(row) for row in rows]

            self._searched = MergedSearch(self._text_filters(), read, sort_key(self._orderby().split(",")))
        return self._searched

    async def _count(self, session: SyncSession, mapping: TableMapping) -> int | None:
        """``$count`` of the table, or of the search (see ``MergedSearch.count``); the coupling
        store for "coupled"; else unknown."""
        if self.query.coupled is CoupledFilter.ALL and self.query.text.strip():

            async def count_one(filter: str) -> int:
                with as_sync_error():
                    return await session.bc.count(bc_kind(mapping), filter=filter)

            return await self._search(session, mapping).count(self._raw_page_size, count_one)
        if self.query.coupled is CoupledFilter.ALL:
            with as_sync_error():
                return await session.bc.count(bc_kind(mapping))
        if self.query.coupled is CoupledFilter.COUPLED and not self.query.text.strip():
            return await session.db(count_couplings, mapping.name)
        return None

    async def _page(self, session: SyncSession, mapping: TableMapping, start: int, size: int) -> list[ListRow]:
        """Rows ``start`` … ``start + size - 1`` with their coupling and sync state."""
        if self.query.coupled is CoupledFilter.ALL:
            records = await self._raw(session, mapping, start, size)
        elif self.query.coupled is CoupledFilter.COUPLED and not self.query.text.strip():
            records = await self._coupled_page(session, mapping, start, size)
        else:
            records = await self._scan(session, mapping, start, size)
        return await self._rows(session, mapping, records)

    async def _raw(self, session: SyncSession, mapping: TableMapping, offset: int, size: int) -> list[Record]:
        if self.query.text.strip():
            return await self._search(session, mapping).rows(offset, size)
        numbered = await self._number_index(session, mapping)
        if numbered is not None:
            ids = numbered[offset : offset + size]
            found = await fetch_bc(session, mapping, ids, select=self._select(mapping))
            return [found[key] for key in ids if key in found]  # gone since the index was read: left out
        with as_sync_error():
            rows = await session.bc.page(
                bc_kind(mapping),
                top=size,
                skip=offset,
                select=self._select(mapping),
                orderby=self._orderby(),
            )
        return [to_record(row) for row in rows]

    async def _coupled_page(self, session: SyncSession, mapping: TableMapping, start: int, size: int) -> list[Record]:
        """The coupled records ``start`` … in the store's order, read from BC by id."""
        if self._coupled is None:
            self._coupled = await session.db(_sorted_couplings, mapping.name, self.query.sort)
        holders = self._coupled[start : start + size]
        found = await fetch_bc(session, mapping, [c.bc_id for c in holders], select=self._select(mapping))
        records: list[Record] = []
        for holder in holders:
            record = found.get(holder.bc_id)
            if record is None:  # deleted in BC: still listed, from what the coupling remembers
                record = {
                    "id": holder.bc_id,
                    "number": holder.bc_number or "",
                    "displayName": holder.display_name or "",
                    "_missing": True,
                }
            records.append(record)
        return records

    async def _rows(self, session: SyncSession, mapping: TableMapping, records: list[Record]) -> list[ListRow]:
        ids = [record_id(mapping, r, dataverse=False) for r in records]
        coupled = await session.db(couplings_by_bc_id, mapping.name, ids) if ids else {}
        select = tuple(dict.fromkeys((*dataverse_fields(mapping), mapping.dataverse_name_field)))
        counterparts = (
            await fetch_dataverse(session, mapping, [c.dataverse_id for c in coupled.values()], select=select)
            if coupled
            else {}
        )
        rows = []
        for key, record in zip(ids, records, strict=True):
            coupling = coupled.get(key)
            counterpart = counterparts.get(coupling.dataverse_id) if coupling else None
            inside = passes(record, mapping.table_filter) if not record.get("_missing") else True
            if not inside:
                self.outside_filter.add(key)
            name = ""
            if coupling is not None:
                name = cell(counterpart, mapping.dataverse_name_field) if counterpart else ""
                name = name or (coupling.display_name or "")
            rows.append(
                ListRow(
                    key=key,
                    name=cell(record, "displayName"),
                    record=record,
                    coupled=coupling is not None,
                    counterpart=name,
                    state=coupled_pair_state(mapping, coupling, record, counterpart) if coupling else None,
                    inside=inside,
                )
            )
        return rows


def _sorted_couplings(mapping_name: str, sort: str) -> list[CouplingRecord]:
    """Every coupling of the mapping, by the cached number (or name) the store keeps."""
    every = list(iter_couplings(mapping_name))
    if sort == "Name":
        every.sort(key=lambda c: ((c.display_name or "").casefold(), c.bc_number or ""))
    else:  # the store caches no city: No. order stands in for it
        every.sort(key=lambda c: number_order(c.bc_number or ""))
    return every


__all__ = ["BcList"]
