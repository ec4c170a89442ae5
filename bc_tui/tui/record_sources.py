"""The record lists' page sources: Business Central and Dataverse records, a page at a time.

Each source shows one side of one table mapping (CUSTOMER/CONTACT on the BC side, accounts/
contacts on the Dataverse side) under a `ListQuery` (text filter, coupled filter, sort). A source
is immutable in its query: the screen swaps in ``source.with_query(...)`` and the list fetches
again. Nothing here loads a whole table:

- Business Central pages with ``$skip``/``$top``/``$orderby`` and counts with ``$count``.
- Dataverse has no ``$skip``: pages are read by following ``@odata.nextLink``, and the link of
  every page boundary is remembered, so going back is one request. Its ``$count`` stops at
  5,000, so larger tables have an unknown count (the list grows as pages arrive).
- "Coupled" lists page through the coupling store and read those BC records by id; "not
  coupled" lists (and coupled lists with a text filter) scan the BC pages and keep the rows that
  qualify, remembering where each list page started in the table (count unknown).

The coupling columns (the ● mark, the coupled record's name, the sync state) come from the
coupling store, read-only, and one ``id eq … or …`` read of the coupled records of the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Callable, Mapping, Sequence

from bc_tui.domain.text import shorten
from bc_tui.connectors import filters as odata
from bc_tui.domain.diff import diff_records
from bc_tui.domain.filters import passes
from bc_tui.domain.mappings import TableMapping
from bc_tui.store import couplings as coupling_store
from bc_tui.store.couplings import CouplingRecord
from bc_tui.sync.engine import last_sync
from bc_tui.sync.errors import as_sync_error
from bc_tui.sync.records import (
    Record,
    bc_fields,
    bc_kind,
    dataverse_fields,
    dataverse_kind,
    fetch_bc,
    fetch_dataverse,
    record_id,
    to_record,
)
from bc_tui.sync.session import SyncSession
from bc_tui.tui.sources import Column, Row

SessionGetter = Callable[[], "SyncSession | None"]

COUPLED_MARK = "●"
DATAVERSE_COUNT_LIMIT = 5000
"""Dataverse's ``$count`` stops here: a count this high means "at least", so it is unknown."""

#: Rows read per request when scanning for coupled / not coupled records.
SCAN_CHUNK = 500


class CoupledFilter(StrEnum):
    """The coupled yes/no filter; ``f`` cycles through them in this order."""

    ALL = "all"
    COUPLED = "coupled"
    NOT_COUPLED = "not coupled"

    def next(self) -> "CoupledFilter":
        """The filter after this one (all → coupled → not coupled → all)."""
        order = list(CoupledFilter)
        return order[(order.index(self) + 1) % len(order)]


class SyncState(StrEnum):
    """What the sync state column says about a coupled record."""

    SYNCED = "synced"
    NOT_SYNCED = "not synced yet"
    CHANGED_IN_BC = "changed in BC"
    CHANGED_IN_DATAVERSE = "changed in Dataverse"
    CHANGED_ON_BOTH = "changed on both"
    CONFLICT = "conflict"
    SKIPPED = "skipped"
    FAILED = "failed"
    BROKEN = "broken"


#: The sort keys ``o`` cycles through: (title, BC field, Dataverse attribute).
SORTS: tuple[tuple[str, str, str], ...] = (
    ("No.", "number", ""),
    ("Name", "displayName", ""),
    ("City", "city", "address1_city"),
)


@dataclass(frozen=True)
class ListQuery:
    """What a list shows: ``text`` filter (server-side, escaped), coupled filter, sort title."""

    text: str = ""
    coupled: CoupledFilter = CoupledFilter.ALL
    sort: str = "No."

    def next_sort(self, titles: Sequence[str]) -> "ListQuery":
        """The same query sorted by the next of ``titles``."""
        index = titles.index(self.sort) if self.sort in titles else -1
        return replace(self, sort=titles[(index + 1) % len(titles)])

    def describe(self) -> str:
        """E.g. ``filter "ad" · coupled · sorted by Name``, for the status line."""
        parts = []
        if self.text:
            parts.append(f'filter "{shorten(self.text)}"')  # typed (or pasted) by the user
        if self.coupled is not CoupledFilter.ALL:
            parts.append(self.coupled.value)
        parts.append(f"sorted by {self.sort}")
        return " · ".join(parts)


# --------------------------------------------------------------------------- shared machinery


class _MappingSource:
    """What both sides share: the mapping, the query, the session and the scan bookmarks."""

    side: str = ""
    columns: tuple[Column, ...] = ()
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

    def with_query(self, **changes: Any) -> "_MappingSource":
        """A new source of the same table with the query changed (``text=``, ``coupled=``, ``sort=``)."""
        return type(self)(
            self._session,
            self.mapping_name,
            replace(self.query, **changes),
            raw_page_size=self._raw_page_size,
        )

    def invalidate(self) -> None:
        """Forget what was learnt about positions (called when the list refreshes its data)."""
        self._bookmarks.clear()

    def _open(self) -> tuple[SyncSession, TableMapping] | None:
        session = self._session()
        if session is None:
            return None
        return session, session.mapping(self.mapping_name)

    # Scanning: the list is the raw table with only the rows for which `keep` says yes.

    async def _raw(self, session: SyncSession, mapping: TableMapping, offset: int, size: int) -> list[Record]:
        raise NotImplementedError

    async def _keep(self, mapping: TableMapping, records: list[Record]) -> list[bool]:
        raise NotImplementedError

    async def _scan(self, session: SyncSession, mapping: TableMapping, start: int, size: int) -> list[Record]:
        """Rows ``start`` … of the filtered list, reading the raw table from the nearest bookmark."""
        async with self._lock:
            known = [i for (s, i) in self._bookmarks if s == size and i <= start]
            index = max(known, default=0)
            offset = self._bookmarks.get((size, index), 0)
            found: list[Record] = []
            while len(found) < size:
                chunk = await self._raw(session, mapping, offset, SCAN_CHUNK)
                for record, keep in zip(chunk, await self._keep(mapping, chunk)):
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

    # Text filter.

    def _text_filter(self) -> str:
        raise NotImplementedError


def _cell(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    return "" if value is None else str(value).strip()


# --------------------------------------------------------------------------- Business Central


class BcRecordSource(_MappingSource):
    """Business Central customers or contacts of one table mapping, with their coupling state.

    Keys are the records' SystemIds (normalized). Records outside the mapping's table filter
    (e.g. blocked customers) are shown dimmed and collected in ``outside_filter``.
    """

    side = "bc"
    sort_titles = tuple(title for title, _, _ in SORTS)
    columns = (
        Column("number", "No.", 10),
        Column("name", "Name", 22),
        Column("city", "City", 10),
        Column("phone", "Phone", 13),
        Column("email", "E-mail", 18),
        Column("coupled", COUPLED_MARK, 1),
        Column("dataverse_name", "Dataverse name", 16),
        Column("state", "Sync state", 20),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coupled: list[CouplingRecord] | None = None  # the "coupled" list, read once

    def invalidate(self) -> None:
        super().invalidate()
        self._coupled = None

    def _select(self, mapping: TableMapping) -> tuple[str, ...]:
        shown = ("number", "displayName", "city", "phoneNumber", "email")
        filtered = tuple(c.field for c in mapping.table_filter)
        return tuple(dict.fromkeys((*bc_fields(mapping), *shown, *filtered)))

    def _orderby(self) -> str:
        field = next((bc for title, bc, _ in SORTS if title == self.query.sort), "number")
        return field if field == "number" else f"{field},number"

    def _text_filter(self) -> str:
        text = self.query.text.strip()
        if not text:
            return ""
        return odata.or_(
            odata.startswith("displayName", text),
            odata.startswith("number", text),
            odata.contains("email", text),
        )

    async def count(self) -> int | None:
        """``$count`` of the filtered table; the coupling store for "coupled"; else unknown."""
        opened = self._open()
        if opened is None:
            return 0
        session, mapping = opened
        if self.query.coupled is CoupledFilter.ALL:
            client = session.bc
            params = {"$filter": self._text_filter()} if self.query.text.strip() else None
            with as_sync_error():
                answer = await client.service.get_json(
                    client.path(bc_kind(mapping)) + "/$count", params=params, record="the count"
                )
            return int(answer)
        if self.query.coupled is CoupledFilter.COUPLED and not self.query.text.strip():
            return coupling_store.count_couplings(mapping.name)
        return None

    async def page(self, start: int, size: int) -> list[Row]:
        """Rows ``start`` … ``start + size - 1`` with their coupling columns."""
        opened = self._open()
        if opened is None:
            return []
        session, mapping = opened
        if self.query.coupled is CoupledFilter.ALL:
            records = await self._raw(session, mapping, start, size)
        elif self.query.coupled is CoupledFilter.COUPLED and not self.query.text.strip():
            records = await self._coupled_page(session, mapping, start, size)
        else:
            records = await self._scan(session, mapping, start, size)
        return await self._rows(session, mapping, records)

    async def _raw(self, session: SyncSession, mapping: TableMapping, offset: int, size: int) -> list[Record]:
        client = session.bc
        kind = bc_kind(mapping)
        params: dict[str, Any] = {
            "$select": ",".join(dict.fromkeys((kind.KEY, kind.MODIFIED, *self._select(mapping)))),
            "$orderby": self._orderby(),
            "$top": size,
            "$skip": offset,
        }
        if text := self._text_filter():
            params["$filter"] = text
        with as_sync_error():
            answer = await client.service.get_json(client.path(kind), params=params, record=f"{kind.NOUN}s")
        return [to_record(kind.from_row(row)) for row in answer.get("value", [])]

    async def _keep(self, mapping: TableMapping, records: list[Record]) -> list[bool]:
        ids = [record_id(mapping, r, dataverse=False) for r in records]
        coupled = coupling_store.couplings_by_bc_id(mapping.name, ids)
        want = self.query.coupled is CoupledFilter.COUPLED
        return [(i in coupled) == want for i in ids]

    async def _coupled_page(
        self, session: SyncSession, mapping: TableMapping, start: int, size: int
    ) -> list[Record]:
        """The coupled records ``start`` … in the store's order, read from BC by id."""
        if self._coupled is None:
            self._coupled = _sorted_couplings(mapping.name, self.query.sort)
        holders = self._coupled[start : start + size]
        found = await fetch_bc(session, mapping, [c.bc_id for c in holders], select=self._select(mapping))
        records: list[Record] = []
        for holder in holders:
            record = found.get(holder.bc_id)
            if record is None:  # deleted in BC: still listed, from what the coupling remembers
                record = {"id": holder.bc_id, "number": holder.bc_number or "",
                          "displayName": holder.display_name or "", "_missing": True}
            records.append(record)
        return records

    async def _rows(self, session: SyncSession, mapping: TableMapping, records: list[Record]) -> list[Row]:
        ids = [record_id(mapping, r, dataverse=False) for r in records]
        coupled = coupling_store.couplings_by_bc_id(mapping.name, ids) if ids else {}
        select = tuple(dict.fromkeys((*dataverse_fields(mapping), mapping.dataverse_name_field)))
        counterparts = (
            await fetch_dataverse(session, mapping, [c.dataverse_id for c in coupled.values()], select=select)
            if coupled else {}
        )
        rows = []
        for key, record in zip(ids, records):
            coupling = coupled.get(key)
            counterpart = counterparts.get(coupling.dataverse_id) if coupling else None
            inside = passes(record, mapping.table_filter) if not record.get("_missing") else True
            if not inside:
                self.outside_filter.add(key)
            state = sync_state(mapping, record, coupling, counterpart) if coupling else None
            name = ""
            if coupling is not None:
                name = _cell(counterpart, mapping.dataverse_name_field) if counterpart else ""
                name = name or (coupling.display_name or "")
            rows.append(Row(
                key=key,
                cells={
                    "number": _cell(record, "number"),
                    "name": _cell(record, "displayName"),
                    "city": _cell(record, "city"),
                    "phone": _cell(record, "phoneNumber"),
                    "email": _cell(record, "email"),
                    "coupled": COUPLED_MARK if coupling else "",
                    "dataverse_name": name,
                    "state": state.value if state else ("outside filter" if not inside else ""),
                },
                style=_style(state, inside),
            ))
        return rows


def sync_state(
    mapping: TableMapping, bc: Record, coupling: CouplingRecord, dataverse: Record | None
) -> SyncState:
    """The sync state of a coupled record from the coupling's stored state and both records now."""
    if coupling.broken or bc.get("_missing") or dataverse is None:
        return SyncState.BROKEN
    if coupling.skipped:
        return SyncState.SKIPPED
    if coupling.failed:
        return SyncState.FAILED
    if not coupling.snapshot and not coupling.bc_etag and not coupling.dataverse_etag:
        return SyncState.NOT_SYNCED
    diff = diff_records(mapping, bc, dataverse, last_sync(coupling))
    if diff.bc_modified and diff.dataverse_modified:
        return SyncState.CONFLICT if diff.conflicts else SyncState.CHANGED_ON_BOTH
    if diff.bc_modified:
        return SyncState.CHANGED_IN_BC
    if diff.dataverse_modified:
        return SyncState.CHANGED_IN_DATAVERSE
    return SyncState.SYNCED


def _style(state: SyncState | None, inside: bool) -> str | None:
    if not inside:
        return "dim"
    if state in (SyncState.CONFLICT, SyncState.FAILED, SyncState.BROKEN):
        return "bold"
    return None


def _sorted_couplings(mapping_name: str, sort: str) -> list[CouplingRecord]:
    """Every coupling of the mapping, by the cached number (or name) the store keeps."""
    every = list(coupling_store.iter_couplings(mapping_name))
    if sort == "Name":
        every.sort(key=lambda c: ((c.display_name or "").casefold(), c.bc_number or ""))
    else:  # the store caches no city: No. order stands in for it
        every.sort(key=lambda c: (c.bc_number or "").casefold())
    return every


# --------------------------------------------------------------------------- Dataverse


class DataverseRecordSource(_MappingSource):
    """Dataverse accounts or contacts of one table mapping, with the coupled BC number.

    Paged by following nextLinks (Dataverse has no ``$skip``); the link of each page boundary is
    remembered so that revisiting a page costs one request.
    """

    side = "dataverse"
    sort_titles = ("Name", "City")
    columns = (
        Column("name", "Name", 30),
        Column("city", "City", 14),
        Column("phone", "Phone", 15),
        Column("email", "E-mail", 26),
        Column("coupled", COUPLED_MARK, 1),
        Column("bc_number", "BC No.", 10),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._links: dict[int, str] = {}  # raw page index → the nextLink that reads it

    def invalidate(self) -> None:
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
            odata.startswith(mapping.dataverse_name_field, text),
            odata.contains("emailaddress1", text),
        )

    async def count(self) -> int | None:
        """Dataverse's ``$count`` when there is no filter and it is below its 5,000 limit."""
        opened = self._open()
        if opened is None:
            return 0
        session, mapping = opened
        if self.query.text.strip() or self.query.coupled is not CoupledFilter.ALL:
            return None
        client = session.dataverse
        with as_sync_error():
            answer = await client.service.get_json(
                client.path(dataverse_kind(mapping)) + "/$count", record="the count"
            )
        count = int(answer)
        return None if count >= DATAVERSE_COUNT_LIMIT else count

    async def page(self, start: int, size: int) -> list[Row]:
        """Rows ``start`` … with the coupled BC number."""
        opened = self._open()
        if opened is None:
            return []
        session, mapping = opened
        if self.query.coupled is CoupledFilter.ALL:
            async with self._lock:
                records = await self._raw(session, mapping, start, size)
        else:
            records = await self._scan(session, mapping, start, size)
        ids = [record_id(mapping, r, dataverse=True) for r in records]
        coupled = coupling_store.couplings_by_dataverse_id(mapping.name, ids) if ids else {}
        rows = []
        for key, record in zip(ids, records):
            coupling = coupled.get(key)
            inside = passes(record, mapping.integration_table_filter)
            if not inside:
                self.outside_filter.add(key)
            rows.append(Row(
                key=key,
                cells={
                    "name": _cell(record, mapping.dataverse_name_field),
                    "city": _cell(record, "address1_city"),
                    "phone": _cell(record, "telephone1"),
                    "email": _cell(record, "emailaddress1"),
                    "coupled": COUPLED_MARK if coupling else "",
                    "bc_number": (coupling.bc_number or "") if coupling else "",
                },
                style=None if inside else "dim",
            ))
        return rows

    async def _keep(self, mapping: TableMapping, records: list[Record]) -> list[bool]:
        ids = [record_id(mapping, r, dataverse=True) for r in records]
        coupled = coupling_store.couplings_by_dataverse_id(mapping.name, ids)
        want = self.query.coupled is CoupledFilter.COUPLED
        return [(i in coupled) == want for i in ids]

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
        client = session.dataverse
        kind = dataverse_kind(mapping)
        headers = {"Prefer": f"odata.maxpagesize={self._raw_page_size}"}
        known = max((i for i in self._links if i <= index), default=0)
        current = known
        while True:
            if current == 0:
                params: dict[str, Any] | None = {
                    "$select": ",".join(dict.fromkeys((kind.KEY, kind.MODIFIED, *self._select(mapping)))),
                    "$orderby": self._orderby(mapping),
                }
                if text := self._text_filter_for(mapping):
                    params["$filter"] = text
                url: Any = client.path(kind)
            else:
                params, url = None, client.service.url(self._links[current])
            with as_sync_error():
                answer = await client.service.get_json(url, params=params, headers=headers, record=f"{kind.NOUN}s")
            link = answer.get("@odata.nextLink")
            if isinstance(link, str) and link:
                self._links[current + 1] = link
            if current == index:
                return [to_record(kind.from_row(row)) for row in answer.get("value", [])]
            if not link:
                return []
            current += 1


# --------------------------------------------------------------------------- the standard tabs


STANDARD_TABS: tuple[tuple[str, str, type[_MappingSource]], ...] = (
    ("customers", "CUSTOMER", BcRecordSource),
    ("contacts", "CONTACT", BcRecordSource),
    ("dataverse-accounts", "CUSTOMER", DataverseRecordSource),
    ("dataverse-contacts", "CONTACT", DataverseRecordSource),
)
"""Tab id, table mapping and source class of the four standard lists."""


def standard_sources(session: SessionGetter, *, raw_page_size: int = 100) -> dict[str, _MappingSource]:
    """The four standard lists (tab id → source) over the session ``session()`` returns.

    The getter is called at every request, so the sources can exist before the connection does
    (they are empty until it works)."""
    return {
        tab: cls(session, mapping_name, raw_page_size=raw_page_size)
        for tab, mapping_name, cls in STANDARD_TABS
    }


RecordSource = _MappingSource
"""The base class of both sides' sources (``mapping_name``, ``side``, ``query``, ``with_query``)."""

__all__ = [
    "BcRecordSource",
    "CoupledFilter",
    "DataverseRecordSource",
    "ListQuery",
    "RecordSource",
    "STANDARD_TABS",
    "SyncState",
    "standard_sources",
    "sync_state",
]
