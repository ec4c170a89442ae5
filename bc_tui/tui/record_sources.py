"""The record lists' page sources: the read model's rows (``sync/lists.py``) as list rows.

A source shows one side of one table mapping under a ``ListQuery``; the screen swaps in
``source.with_query(...)`` and the list fetches again. What is read, counted and how a
record's sync state is decided is the read model's business; here a ``ListRow`` only becomes
the cells and the style of a ``Row``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from bc_tui.domain.sync_state import OUTSIDE_FILTER, SyncState
from bc_tui.sync.bc_list import BcList
from bc_tui.sync.dataverse_list import DataverseList
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.lists import ListRow, MappingList, SessionGetter, cell
from bc_tui.tui.sources import Column, Row

COUPLED_MARK = "●"

#: The sync state's cell tone, as the card colours a field in that state (changed in BC: primary,
#: changed in Dataverse: success, changed on both or skipped: warning, conflict, failed and
#: broken: error); "synced" and "not synced yet" are plain. The words stay: colour only adds.
STATE_TONES: Mapping[SyncState, str] = {
    SyncState.CHANGED_IN_BC: "primary",
    SyncState.CHANGED_IN_DATAVERSE: "success",
    SyncState.CHANGED_ON_BOTH: "warning",
    SyncState.SKIPPED: "warning",
    SyncState.CONFLICT: "error",
    SyncState.FAILED: "error",
    SyncState.BROKEN: "error",
}


def outside_filter_note(mapping_name: str) -> str:
    """The sentence that explains a row outside the mapping's table filter."""
    return (
        f"Outside filter: the record does not pass the {mapping_name} table filter (e.g. a blocked "
        "customer), so it is shown dimmed and gets no Dataverse actions (couple, synchronize, create)."
    )


class RecordSource:
    """The base of both sides' sources: a read-model list and the columns it fills."""

    columns: tuple[Column, ...] = ()
    list_class: type[MappingList] = MappingList
    #: The cells that show a field of the record as it is: cell key -> the record's field.
    fields: ClassVar[Mapping[str, str]] = {}
    #: The cell of the coupled record's name or number.
    counterpart_key: ClassVar[str] = ""

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
        cells = {key: cell(row.record, field) for key, field in self.fields.items()}
        cells.update(name=row.name, coupled=COUPLED_MARK if row.coupled else "")
        cells[self.counterpart_key] = row.counterpart
        return Row(
            key=row.key, cells={**cells, **self._more_cells(row)}, style=self._style(row), tones=self._tones(row)
        )

    def _tones(self, row: ListRow) -> dict[str, str]:
        """The coloured cells: the sync state's (``STATE_TONES``)."""
        tone = STATE_TONES.get(row.state) if row.state is not None else None
        return {"state": tone} if tone else {}

    def _more_cells(self, row: ListRow) -> dict[str, str]:
        """Cells only this side's list has."""
        return {}

    def _style(self, row: ListRow) -> str | None:
        """A row outside the table filter is dim."""
        return None if row.inside else "dim"


#: The columns of both record lists, in order: cell key, title, and the width on the Business
#: Central list and on the Dataverse list (0: not on that list).
_COLUMNS: tuple[tuple[str, str, int, int], ...] = (
    ("number", "No.", 10, 0),
    ("name", "Name", 22, 30),
    ("city", "City", 10, 14),
    ("phone", "Phone", 13, 15),
    ("email", "E-mail", 18, 26),
    ("coupled", COUPLED_MARK, 1, 1),
    ("dataverse_name", "Dataverse name", 16, 0),
    ("bc_number", "BC No.", 0, 10),
    ("state", "Sync state", 20, 0),
)


def _columns(on_bc_list: bool) -> tuple[Column, ...]:
    """The columns of the Business Central list (``on_bc_list``) or of the Dataverse list."""
    widths = ((key, title, bc if on_bc_list else dataverse) for key, title, bc, dataverse in _COLUMNS)
    return tuple(Column(key, title, width) for key, title, width in widths if width)


class BcRecordSource(RecordSource):
    """Business Central customers or contacts with the coupled Dataverse name and sync state."""

    list_class = BcList
    columns = _columns(on_bc_list=True)
    fields: ClassVar[Mapping[str, str]] = {"number": "number", "city": "city", "phone": "phoneNumber", "email": "email"}
    counterpart_key = "dataverse_name"

    def _more_cells(self, row: ListRow) -> dict[str, str]:
        """The sync state."""
        state = row.state
        return {"state": state.value if state else (OUTSIDE_FILTER if not row.inside else "")}

    def _style(self, row: ListRow) -> str | None:
        """Dim outside the table filter, bold when the sync state needs attention."""
        if not row.inside:
            return "dim"
        if row.state is not None and row.state.needs_attention:
            return "bold"
        return None


class DataverseRecordSource(RecordSource):
    """Dataverse accounts or contacts with the coupled BC number."""

    list_class = DataverseList
    columns = _columns(on_bc_list=False)
    fields: ClassVar[Mapping[str, str]] = {"city": "address1_city", "phone": "telephone1", "email": "emailaddress1"}
    counterpart_key = "bc_number"


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
