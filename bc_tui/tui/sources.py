"""What a record list shows: columns, rows and the async page source that feeds them.

CONTRACT: the screens hand each `RecordList` a `PageSource`; the sync layer (or the local store)
implements it. The list asks only for the pages around its viewport, so a source must answer
``page(start, size)`` without loading the whole table. This module imports nothing from Textual
so a source can be written and tested without the UI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a record list: the key of its cell in `Row.cells`, title, width in cells."""

    key: str
    title: str
    width: int


@dataclass(frozen=True, slots=True)
class Row:
    """One record as a list shows it.

    ``key`` is the record's stable id (e.g. the BC SystemId or the Dataverse GUID): marks and the
    cursor follow it across refreshes and re-sorts. ``style`` is an optional Rich style string for
    the whole row (e.g. ``"dim"`` for a blocked customer, ``"bold"`` for a conflict).
    ``tones``: cell key → a tone of the theme (``"primary"``, ``"success"``, ``"warning"``,
    ``"error"``) that colours that cell, e.g. the sync state as the card colours it.
    """

    key: str
    cells: Mapping[str, str] = field(default_factory=dict)
    style: str | None = None
    tones: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class PageSource(Protocol):
    """CONTRACT: an async, paged view of one table, already filtered and sorted.

    - ``columns``: what to show, in order.
    - ``count()``: the number of rows, or ``None`` while it is not known (the list then grows as
      pages come back, and a page shorter than asked for marks the end).
    - ``page(start, size)``: rows ``start`` … ``start + size - 1`` (fewer at the end, ``[]`` past
      it). Called from a worker; may be cancelled while awaiting (``asyncio.CancelledError``).
    """

    columns: tuple[Column, ...]

    async def count(self) -> int | None:
        """The number of rows, or ``None`` when unknown yet."""
        ...

    async def page(self, start: int, size: int) -> list[Row]:
        """The rows from index ``start``, at most ``size`` of them."""
        ...


class SequencePageSource:
    """A `PageSource` over rows already in memory (small lists, dialogs, previews)."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Row]) -> None:
        self.columns: tuple[Column, ...] = tuple(columns)
        self._rows = list(rows)

    async def count(self) -> int | None:
        """The number of rows held."""
        return len(self._rows)

    async def page(self, start: int, size: int) -> list[Row]:
        """A slice of the rows held."""
        return self._rows[start : start + size]
