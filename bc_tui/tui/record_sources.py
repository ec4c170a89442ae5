"""The record lists' page sources: the read model's rows (``sync/lists.py``) as list rows.

A source shows one side of one table mapping under a ``ListQuery``; the screen swaps in
``source.with_query(...)`` and the list fetches again. What is read, counted and how a
record's sync state is decided is the read model's business; here a ``ListRow`` only becomes
the cells and the style of a ``Row``.
"""

from __future__ import annotations

from typing import Any

from bc_tui.domain.sync_state import SyncState
from bc_tui.sync.bc_list import BcList
from bc_tui.sync.dataverse_list import DataverseList
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.lists import ListRow, MappingList, SessionGetter, cell
from bc_tui.tui.sources import Column, Row

COUPLED_MARK = "●"


class RecordSource:
    """The base of both sides' sources: a read-model list and the columns it fills."""

    columns: tuple[Column, ...] = ()
    list_class: type[MappingList] = MappingList

    def __init__(self, records: MappingList) -> None:
        """A source showing the read-model list ``records`` (an instance of ``list_class``)."""
        self.records = records

    @property
    def mapping_name(self) -> str:
        """The table mapping this source lists one side of."""
        return self.records.mapping_name

    @property
    def side(self) -> str:
        """``"bc"`` or ``"dataverse"``."""
        return self.records.side

    @property
    def sort_titles(self) -> tuple[str, ...]:
        """The sort titles ``o`` cycles through."""
        return self.records.sort_titles

    @property
    def query(self) -> ListQuery:
        """The text filter, coupled filter and sort shown."""
        return self.records.query

    @property
    def outside_filter(self) -> set[str]:
        """Keys of rows seen outside the mapping's table filter (they get no Dataverse actions)."""
        return self.records.outside_filter

    def with_query(self, **changes: Any) -> RecordSource:
        """A new source of the same table with the query changed (``text=``, ``coupled=``, ``sort=``)."""
        return type(self)(self.records.with_query(**changes))

    def invalidate(self) -> None:
        """Forget what was learnt about positions (called when the list refreshes its data)."""
        self.records.invalidate()

    async def count(self) -> int | None:
        """The number of rows, or None when unknown."""
        return await self.records.count()

    async def page(self, start: int, size: int) -> list[Row]:
        """Rows ``start`` … ``start + size - 1`` as the list shows them."""
        return [self._row(row) for row in await self.records.page(start, size)]

    def _row(self, row: ListRow) -> Row:
        raise NotImplementedError


class BcRecordSource(RecordSource):
    """Business Central customers or contacts with the coupled Dataverse name and sync state."""

    list_class = BcList
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

    def _row(self, row: ListRow) -> Row:
        record, state = row.record, row.state
        return Row(
            key=row.key,
            cells={
                "number": cell(record, "number"),
                "name": row.name,
                "city": cell(record, "city"),
                "phone": cell(record, "phoneNumber"),
                "email": cell(record, "email"),
                "coupled": COUPLED_MARK if row.coupled else "",
                "dataverse_name": row.counterpart,
                "state": state.value if state else ("outside filter" if not row.inside else ""),
            },
            style=_style(state, row.inside),
        )


class DataverseRecordSource(RecordSource):
    """Dataverse accounts or contacts with the coupled BC number."""

    list_class = DataverseList
    columns = (
        Column("name", "Name", 30),
        Column("city", "City", 14),
        Column("phone", "Phone", 15),
        Column("email", "E-mail", 26),
        Column("coupled", COUPLED_MARK, 1),
        Column("bc_number", "BC No.", 10),
    )

    def _row(self, row: ListRow) -> Row:
        record = row.record
        return Row(
            key=row.key,
            cells={
                "name": row.name,
                "city": cell(record, "address1_city"),
                "phone": cell(record, "telephone1"),
                "email": cell(record, "emailaddress1"),
                "coupled": COUPLED_MARK if row.coupled else "",
                "bc_number": row.counterpart,
            },
            style=None if row.inside else "dim",
        )


def _style(state: SyncState | None, inside: bool) -> str | None:
    if not inside:
        return "dim"
    if state is not None and state.needs_attention:
        return "bold"
    return None


STANDARD_TABS: tuple[tuple[str, str, type[RecordSource]], ...] = (
    ("customers", "CUSTOMER", BcRecordSource),
    ("contacts", "CONTACT", BcRecordSource),
    ("dataverse-accounts", "CUSTOMER", DataverseRecordSource),
    ("dataverse-contacts", "CONTACT", DataverseRecordSource),
)
"""Tab id, table mapping and source class of the four standard lists."""


def standard_sources(session: SessionGetter, *, raw_page_size: int = 100) -> dict[str, RecordSource]:
    """The four standard lists (tab id → source) over the session ``session()`` returns.

    The getter is called at every request, so the sources can exist before the connection does
    (they are empty until it works)."""
    return {
        tab: cls(cls.list_class(session, mapping_name, raw_page_size=raw_page_size))
        for tab, mapping_name, cls in STANDARD_TABS
    }


__all__ = [
    "BcRecordSource",
    "COUPLED_MARK",
    "CoupledFilter",
    "DataverseRecordSource",
    "ListQuery",
    "RecordSource",
    "STANDARD_TABS",
    "standard_sources",
]
