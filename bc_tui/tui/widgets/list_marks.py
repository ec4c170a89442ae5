"""The marks of a record list (k9s / htop style): mark, unmark, ranges, "mark all".

Marks are keyed by the record's stable key, and "mark all" is a flag plus exclusions (see
``tui/marks.py``), so marking 100,000 records fetches nothing; only resolving "all" into keys
(``marked_keys``) or marking a range over pages not loaded yet reads the source.
``RecordList`` (``widgets/record_list.py``) is a ``MarkingList``: it supplies the rows, the
cursor and the page fetching this class marks with.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from textual import work
from textual.actions import SkipAction
from textual.message import Message
from textual.scroll_view import ScrollView

from bc_tui.tui.marks import Marks
from bc_tui.tui.sources import PageSource, Row

_BULK_PAGE_SIZE = 1000  # page size when resolving "all marked" into keys


class MarkingList(ScrollView):
    """The marking half of ``RecordList``; the rows, cursor and fetching are the subclass's."""

    _marks: Marks
    _range_anchor: int | None
    _source: PageSource
    _pages: OrderedDict[int, list[Row]]
    _known_end: int
    page_size: int
    cursor_row: Any  # a reactive int on the subclass
    marked_count: Any
    #: The message posted when the marks change (``RecordList.MarksChanged``): list and new count.
    MarksChanged: Callable[[Any, int], Message]

    #: Marked keys that the list's filter hides (the screen sets them from a check of the
    #: marks: ``sync/marked.py``); counted only while they stay marked.
    hidden_marks: frozenset[str] = frozenset()

    # What the subclass provides.

    @property
    def row_count(self) -> int:
        """Rows the list can show now."""
        raise NotImplementedError

    @property
    def count_known(self) -> bool:
        """Whether the row count is known."""
        raise NotImplementedError

    def row_at(self, index: int) -> Row | None:
        """The row at ``index`` if loaded."""
        raise NotImplementedError

    def _move_cursor(self, index: int) -> None:
        raise NotImplementedError

    async def _fetch_page(self, page: int) -> list[Row]:
        raise NotImplementedError

    # ----------------------------------------------------------------- public API

    def is_marked(self, key: str) -> bool:
        """Whether the record ``key`` is marked."""
        return self._marks.is_marked(key)

    async def marked_keys(self) -> list[str]:
        """The keys of every marked record; with "mark all" this walks the whole source once."""
        selection = self._marks.snapshot()
        if not selection.all:
            return list(selection.keys)
        keys: list[str] = []
        start = 0
        while True:
            rows = await self._source.page(start, _BULK_PAGE_SIZE)
            keys.extend(row.key for row in rows if row.key not in selection.excluded)
            if len(rows) < _BULK_PAGE_SIZE:
                return keys
            start += _BULK_PAGE_SIZE

    @property
    def hidden_count(self) -> int:
        """How many marked records the list's filter hides (as last checked)."""
        return sum(1 for key in self.hidden_marks if self._marks.is_marked(key))

    def set_hidden_marks(self, keys: frozenset[str]) -> None:
        """Record which marked keys the current filter hides (after the screen checked them)."""
        self.hidden_marks = keys
        self._marks_changed()

    def mark_keys(self, keys: list[str]) -> None:
        """Mark records by key (e.g. to restore a selection)."""
        self._marks.mark(keys)
        self._marks_changed()

    def unmark_keys(self, keys: list[str]) -> None:
        """Unmark records by key (e.g. the ones an action has finished with)."""
        for key in keys:
            self._marks.unmark(key)
        self._marks_changed()

    def clear_marks(self) -> None:
        """Unmark everything and leave range-mark mode."""
        self._range_anchor = None
        self._marks.clear()
        self._marks_changed()

    # ----------------------------------------------------------------- marking keys and ranges

    def _marks_changed(self) -> None:
        count = self._marks.count(self.row_count if self.count_known else self._known_end)
        self.marked_count = count
        self.post_message(self.MarksChanged(self, count))
        self.refresh()

    def action_toggle_mark(self) -> None:
        """Mark or unmark the record under the cursor, then move down."""
        row = self.row_at(self.cursor_row)
        if row is None:
            self.app.bell()
            return
        self._marks.toggle(row.key)
        self._marks_changed()
        self._move_cursor(self.cursor_row + 1)

    def action_mark_down(self) -> None:
        """Mark the cursor row and the one below, moving down (extends a mark)."""
        start = self.cursor_row
        self._move_cursor(start + 1)
        self._mark_range(start, self.cursor_row)

    def action_mark_up(self) -> None:
        """Mark the cursor row and the one above, moving up (extends a mark)."""
        start = self.cursor_row
        self._move_cursor(start - 1)
        self._mark_range(self.cursor_row, start)

    def action_range_mark(self) -> None:
        """Start a range mark at the cursor (moves then mark every row from here); again to stop."""
        if self._range_anchor is None:
            self._range_anchor = self.cursor_row
            self._mark_range(self.cursor_row, self.cursor_row)
        else:
            self._range_anchor = None

    def action_mark_all(self) -> None:
        """Mark every record of the list (without fetching them)."""
        self._range_anchor = None
        self._marks.mark_all()
        self._marks_changed()

    def action_clear_marks(self) -> None:
        """Clear the marks; with nothing marked the key goes on to the screen (escape = back)."""
        if self._marks.is_empty and self._range_anchor is None:
            raise SkipAction()
        self.clear_marks()

    def _mark_range(self, first: int, last: int) -> None:
        """Mark rows ``first`` … ``last``; rows not loaded yet are fetched, then marked."""
        first, last = min(first, last), max(first, last)
        missing = {
            page for page in range(first // self.page_size, last // self.page_size + 1) if page not in self._pages
        }
        if missing:
            self._mark_range_later(first, last, sorted(missing))
            return
        self._marks.mark(self._keys_between(first, last))
        self._marks_changed()

    def _keys_between(self, first: int, last: int) -> list[str]:
        keys = []
        for index in range(first, last + 1):
            row = self.row_at(index)
            if row is not None:
                keys.append(row.key)
        return keys

    @work(group="marks")
    async def _mark_range_later(self, first: int, last: int, pages: list[int]) -> None:
        rows: dict[int, list[Row]] = {}
        for page in pages:
            rows[page] = await self._fetch_page(page)
        keys = []
        for index in range(first, last + 1):
            page, offset = divmod(index, self.page_size)
            source = rows.get(page) or self._pages.get(page) or []
            if offset < len(source):
                keys.append(source[offset].key)
        self._marks.mark(keys)
        self._marks_changed()
