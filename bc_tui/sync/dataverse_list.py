"""Dataverse accounts or contacts of one table mapping, a page at a time, with the coupled BC
number (the read model of ``sync/lists.py``).

Dataverse has no ``$skip``: pages are read by following ``@odata.nextLink``, and the link of
every page boundary is remembered, so going back is one request. Its ``$count`` stops at
5,000, so larger tables have an unknown count (the list grows as pages arrive).
"""

from __future__ import annotations

from typing import Any

from bc_tui.connectors import DataverseClient
from bc_tui.connectors import filters as odata
from bc_tui.domain.filters import passes
from bc_tui.domain.mappings import TableMapping
from bc_tui.store.coupling_queries import couplings_by_dataverse_id
from bc_tui.sync.errors import as_sync_error
from bc_tui.sync.list_query import CoupledFilter
from bc_tui.sync.lists import ListRow, MappingList, cell
from bc_tui.sync.records import Record, dataverse_fields, dataverse_kind, record_id, to_record
from bc_tui.sync.session import SyncSession

DATAVERSE_COUNT_LIMIT = DataverseClient.COUNT_LIMIT
"""Dataverse's ``$count`` stops here: a count this high means "at least", so it is unknown."""


class DataverseList(MappingList):
    """Dataverse accounts or contacts of one table mapping, with the coupled BC number.

    Paged by following nextLinks; the link of each page boundary is remembered so that
    revisiting a page costs one request.
    """

    side = "dataverse"
    sort_titles = ("Name", "City")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._links: dict[int, str] = {}  # raw page index → the nextLink that reads it

    def invalidate(self) -> None:
        """Forget positions and the page links learnt so far."""
        super().invalidate()
        self._links.clear()

    def _select(self, mapping: TableMapping) -> tuple[str, ...]:
        shown = (mapping.dataverse_name_field, "address1_city", "telephone1", "emailaddress1")
        return tuple(dict.fromkeys((*shown, *dataverse_fields(mapping))))

    def _orderby(self, mapping: TableMapping) -> str:
        field = "address1_city" if self.query.sort == "City" else mapping.dataverse_name_field
        return f"{field},{mapping.dataverse_key}"

    def _text_filter_for(self, mapping: TableMapping) -> str:
        text = self.query.text.strip()
        if not text:
            return ""
        return odata.or_(
            odata.startswith(mapping.dataverse_name_field, odata.like_literal(text)),
            odata.contains("emailaddress1", odata.like_literal(text)),
        )

    async def _count(self, session: SyncSession, mapping: TableMapping) -> int | None:
        """Dataverse's ``$count`` when there is no filter and it is below its 5,000 limit."""
        if self.query.text.strip() or self.query.coupled is not CoupledFilter.ALL:
            return None
        with as_sync_error():
            count = await session.dataverse.count(dataverse_kind(mapping))
        return None if count >= DATAVERSE_COUNT_LIMIT else count

    async def _page(self, session: SyncSession, mapping: TableMapping, start: int, size: int) -> list[ListRow]:
        """Rows ``start`` … with the coupled BC number."""
        if self.query.coupled is CoupledFilter.ALL:
            async with self._lock:
                records = await self._raw(session, mapping, start, size)
        else:
            records = await self._scan(session, mapping, start, size)
        ids = [record_id(mapping, r, dataverse=True) for r in records]
        coupled = await session.db(couplings_by_dataverse_id, mapping.name, ids) if ids else {}
        rows = []
        for key, record in zip(ids, records, strict=True):
            coupling = coupled.get(key)
            inside = passes(record, mapping.integration_table_filter)
            if not inside:
                self.outside_filter.add(key)
            rows.append(
                ListRow(
                    key=key,
                    name=cell(record, mapping.dataverse_name_field),
                    record=record,
                    coupled=coupling is not None,
                    counterpart=(coupling.bc_number or "") if coupling else "",
                    inside=inside,
                )
            )
        return rows

    async def _raw(self, session: SyncSession, mapping: TableMapping, offset: int, size: int) -> list[Record]:
        """Rows ``offset`` … of the table (callers hold the lock: links are shared state)."""
        per_page = self._raw_page_size
        first, last = offset // per_page, (offset + size - 1) // per_page
        rows: list[Record] = []
        for index in range(first, last + 1):
            page = await self._raw_page(session, mapping, index)
            rows.extend(page)
            if len(page) < per_page:
                break
        skip = offset - first * per_page
        return rows[skip : skip + size]

    async def _raw_page(self, session: SyncSession, mapping: TableMapping, index: int) -> list[Record]:
        """Raw page ``index``, following nextLinks from the nearest page whose link is known."""
        kind = dataverse_kind(mapping)
        current = max((i for i in self._links if i <= index), default=0)
        while True:
            with as_sync_error():
                page = await session.dataverse.page(
                    kind,
                    page_size=self._raw_page_size,
                    next_link=self._links.get(current) if current else None,
                    filter=self._text_filter_for(mapping) or None,
                    select=self._select(mapping),
                    orderby=self._orderby(mapping),
                )
            if page.next_link:
                self._links[current + 1] = page.next_link
            if current == index:
                return [to_record(row) for row in page.rows]
            if not page.next_link:
                return []
            current += 1


__all__ = ["DATAVERSE_COUNT_LIMIT", "DataverseList"]
