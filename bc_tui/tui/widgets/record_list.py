"""A virtual, paged, multi-select list of records for tables of 100,000 rows and more.

The list never holds the whole table: it draws each visible line on demand (``render_line``, the
Line API, as Textualize/toolong does) and fetches only the pages around the viewport from an
async `PageSource`, in a worker, keeping a small LRU cache of pages. Rows not loaded yet show a
placeholder. Marks (k9s / htop style, ``widgets/list_marks.py``) are keyed by the record's
stable key, and "mark all" is a flag plus exclusions, so marking 100,000 records fetches nothing.
Lines are drawn by ``widgets/list_drawing.py``, cells cut to their column by ``widgets/list_text.py``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar

from textual import events, work
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive

from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.marks import Marks, MarkSelection
from bc_tui.tui.sources import PageSource, Row
from bc_tui.tui.widgets.list_drawing import TONES, DrawingList
from bc_tui.tui.widgets.list_text import GAP, MARK_GLYPH, MARK_WIDTH, PLACEHOLDER


class _ListMessage(Message):
    """A message from a `RecordList`; ``control`` is the list (so ``@on(…, "#id")`` works)."""

    def __init__(self, record_list: RecordList) -> None:
        super().__init__()
        self.record_list = record_list

    @property
    def control(self) -> RecordList:
        """The list that posted the message."""
        return self.record_list


class RecordList(DrawingList, can_focus=True, inherit_bindings=False):
    """A keyboard-driven list of records with a cursor row and marks.

    Keys: up/down (j/k) move, pageup/pagedown, home/end (g/G) jump, enter opens, space marks and
    moves down, shift+up/down extend a mark, v starts/stops a range mark, ctrl+a marks all,
    escape/u clear the marks. Every binding has an id (``list.*``) for the keymap.
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("list")  # the keys: tui/actions.py

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "record-list--header",
        "record-list--cursor",
        "record-list--marked",
        "record-list--mark",
        "record-list--placeholder",
        *(f"record-list--tone-{tone}" for tone in TONES),
    }

    DEFAULT_CSS = """
    RecordList {
        background: $surface;
        color: $foreground;
        & > .record-list--header { text-style: bold; background: $panel; color: $foreground; }
        & > .record-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .record-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .record-list--marked { background: $accent-muted; color: $foreground; }
        & > .record-list--mark { color: $foreground; text-style: bold; }
        & > .record-list--placeholder { color: $text-muted; }
        /* A cell's tone, as the card colours a state: the theme's text on its muted shade. */
        & > .record-list--tone-primary { color: $text-primary; background: $primary-muted; text-style: bold; }
        & > .record-list--tone-success { color: $text-success; background: $success-muted; text-style: bold; }
        & > .record-list--tone-warning { color: $text-warning; background: $warning-muted; text-style: bold; }
        & > .record-list--tone-error { color: $text-error; background: $error-muted; text-style: bold; }
    }
    """

    cursor_row: reactive[int] = reactive(0, init=False)
    """Index of the cursor row in the list (0-based)."""

    marked_count: reactive[int] = reactive(0, init=False)
    """How many records are marked (with "mark all": the row count minus exclusions)."""

    class Opened(_ListMessage):
        """The user opened a record (enter, or a click on the cursor row / a double click)."""

        def __init__(self, record_list: RecordList, key: str, index: int) -> None:
            super().__init__(record_list)
            self.key = key
            self.index = index

    class MarksChanged(_ListMessage):
        """The set of marked records changed; ``count`` is the new number of marks."""

        def __init__(self, record_list: RecordList, count: int) -> None:
            super().__init__(record_list)
            self.count = count

    class LoadFailed(_ListMessage):
        """Reading the source failed; ``message`` is the one-sentence reason."""

        def __init__(self, record_list: RecordList, message: str) -> None:
            super().__init__(record_list)
            self.message = message

    class Highlighted(_ListMessage):
        """The cursor moved; ``key`` is None while its row is still loading."""

        def __init__(self, record_list: RecordList, key: str | None, index: int) -> None:
            super().__init__(record_list)
            self.key = key
            self.index = index

    def __init__(
        self,
        source: PageSource,
        *,
        page_size: int = 100,
        cache_pages: int = 64,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """A list over ``source``, fetching ``page_size`` rows at a time and caching
        ``cache_pages`` pages."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if page_size < 1 or cache_pages < 2:
            raise ValueError("page_size must be at least 1 and cache_pages at least 2")
        self._source = source
        self.page_size = page_size
        self._cache_pages = cache_pages
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._pending: set[int] = set()  # pages the current viewport worker is fetching
        self._pending_token = 0
        self._count: int | None = None  # None: the source does not know yet
        self._known_end = 0  # rows known to exist when the count is unknown
        self._end_reached = False
        self._generation = 0  # bumped by refresh_data, so late pages of old data are dropped
        self._marks = Marks()
        self._range_anchor: int | None = None
        self._widths = self._column_widths()
        self._stale = True  # the data must be (re)loaded when next shown

    # ----------------------------------------------------------------- public API

    @property
    def source(self) -> PageSource:
        """The page source this list shows."""
        return self._source

    @property
    def row_count(self) -> int:
        """Rows the list can show now: the source's count, or the rows known so far."""
        if self._count is not None:
            return self._count
        # Unknown count: one page of placeholders past the known end lets the user scroll on.
        return self._known_end + (0 if self._end_reached else self.page_size)

    @property
    def count_known(self) -> bool:
        """Whether the row count is known (from ``count()`` or from reaching the end)."""
        return self._count is not None or self._end_reached

    @property
    def cursor_key(self) -> str | None:
        """The key of the record under the cursor, or None while its row is loading."""
        row = self.row_at(self.cursor_row)
        return row.key if row is not None else None

    @property
    def selection(self) -> MarkSelection:
        """The marks as a frozen value ("all" stays a flag plus exclusions)."""
        return self._marks.snapshot()

    def row_at(self, index: int) -> Row | None:
        """The row at ``index`` if its page is loaded, else None."""
        page = self._pages.get(index // self.page_size)
        if page is None:
            return None
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    def visible_keys(self) -> list[str]:
        """The keys of the loaded rows in the viewport (what the user sees now)."""
        top = int(self.scroll_y)
        rows = (self.row_at(i) for i in range(top, min(top + self._visible_rows(), self.row_count)))
        return [row.key for row in rows if row is not None]

    def set_source(self, source: PageSource) -> None:
        """Show another source (e.g. the same table with a new filter); marks are kept."""
        self._source = source
        self._widths = self._column_widths()
        self.refresh_data()

    def refresh_data(self) -> None:
        """Forget cached pages and the count, and fetch again (after a filter, sort or sync).

        Marks are kept (they follow keys); the cursor stays at its index, clamped.
        """
        self._generation += 1
        invalidate = getattr(self._source, "invalidate", None)
        if callable(invalidate):  # sources that remember positions must forget them now
            invalidate()
        self.workers.cancel_group(self, "pages")
        self._pages.clear()
        self._pending.clear()
        self._count = None
        self._known_end = 0
        self._end_reached = False
        self._update_virtual_size()
        self.refresh()
        self._load_when_shown()

    def refresh_visible(self) -> None:
        """Read the loaded pages in view again, keeping their rows on screen until the new ones
        arrive (a running job is changing them: its records show their new state as they finish,
        not only at its end). The count and the other pages stay; ``refresh_data`` redoes all."""
        if not self.is_mounted or not self._displayed():
            return
        top = int(self.scroll_y)
        last = top + self._visible_rows()
        pages = [page for page in range(top // self.page_size, last // self.page_size + 1) if page in self._pages]
        if pages:
            self._reload_pages(pages)

    @work(exclusive=True, group="reload")
    async def _reload_pages(self, pages: list[int]) -> None:
        for page in pages:
            await self._fetch_page(page)

    # ----------------------------------------------------------------- lifecycle

    def _load_when_shown(self) -> None:
        """Load now if the list can be seen; a list in a hidden tab waits until it is shown,
        so that connecting (or refreshing every list) asks only for what is in view."""
        if self._displayed():
            self._stale = False
            self._load_count()
        else:
            self._stale = True

    def _displayed(self) -> bool:
        """Whether neither the list nor a container of it is hidden (``display: none``)."""
        return all(getattr(node, "display", True) for node in self.ancestors_with_self)

    def on_mount(self) -> None:
        """Ask the source for its size and its first pages (when in view, else once shown)."""
        super().on_mount()  # type: ignore[no-untyped-call]  # Textual's ScrollView.on_mount has no annotations
        self._update_virtual_size()
        self._load_when_shown()

    def on_show(self, event: events.Show) -> None:
        """Shown (first layout, or its tab became active): load if the data is not current."""
        if self._stale:
            self._load_when_shown()

    def on_resize(self, event: events.Resize) -> None:
        """A taller viewport may need more pages."""
        self._request_visible_pages()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling (by keys, wheel or scrollbar) fetches the pages that come into view."""
        super().watch_scroll_y(old_value, new_value)
        self._request_visible_pages()

    def watch_cursor_row(self, old_row: int, new_row: int) -> None:
        """Keep the cursor visible, redraw both rows, and tell the screen."""
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_key, new_row))

    def watch_marked_count(self, count: int) -> None:
        """Redraw when the marks change."""
        self.refresh()

    # ----------------------------------------------------------------- fetching

    @work(exclusive=True, group="count")
    async def _load_count(self) -> None:
        generation = self._generation
        try:
            count = await self._source.count()
        except Exception as error:  # noqa: BLE001 - a failed read is a message, not a crash
            if generation == self._generation:
                self._load_failed(error)
            return
        if generation != self._generation:
            return
        self._count = count
        if count is not None:
            self._end_reached = True
        self._after_size_change()

    def _after_size_change(self) -> None:
        self._update_virtual_size()
        if self.row_count and self.cursor_row >= self.row_count:
            self.cursor_row = self.row_count - 1
        if self._marks.all:  # "all" counts rows, so the count of marks moved too
            self._marks_changed()
        self._request_visible_pages()
        self.refresh()

    def _update_virtual_size(self) -> None:
        width = MARK_WIDTH + sum(w + GAP for w in self._widths)
        self.virtual_size = Size(width, self.row_count + 1)  # +1: the header line

    def _visible_rows(self) -> int:
        """Rows of records the viewport shows (its height less the header line)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _request_visible_pages(self) -> None:
        """Start fetching the pages around the viewport that are neither cached nor on the way."""
        if not self.is_mounted or (self.row_count == 0 and self._count is not None):
            return
        height = self._visible_rows()
        top = int(self.scroll_y)
        first = max(top - height // 2, 0)
        last = top + height + height // 2
        if self._count is not None:
            last = min(last, self._count - 1)
        if last < first:
            return
        wanted = range(first // self.page_size, last // self.page_size + 1)
        missing = [page for page in wanted if page not in self._pages]
        if not missing or set(missing) <= self._pending:
            return
        # Pages in view first, the margins after, so the screen fills as soon as possible.
        in_view = range(top // self.page_size, (top + height) // self.page_size + 1)
        missing.sort(key=lambda page: (page not in in_view, page))
        self._pending = set(missing)
        self._pending_token += 1
        self._load_pages(missing, self._pending_token)

    @work(exclusive=True, group="pages")
    async def _load_pages(self, pages: list[int], token: int) -> None:
        # exclusive: a newer viewport request cancels this one (e.g. G pressed while loading).
        try:
            for page in pages:
                if page not in self._pages:
                    await self._fetch_page(page)
        finally:
            if token == self._pending_token:  # a newer request owns _pending otherwise
                self._pending.clear()

    async def _fetch_page(self, page: int) -> list[Row]:
        """Fetch one page from the source into the cache (also used by range marks)."""
        generation = self._generation
        start = page * self.page_size
        try:
            rows = await self._source.page(start, self.page_size)
        except Exception as error:  # noqa: BLE001 - a failed read is a message, not a crash
            if generation == self._generation:
                self._store_page(page, [])  # not fetched again until the data is refreshed
                self._load_failed(error)
            return []
        if generation != self._generation:
            return rows
        self._store_page(page, rows)
        size_changed = False
        if self._count is None:
            if rows:
                end = start + len(rows)
                if end > self._known_end:
                    self._known_end = end
                    size_changed = True
            if len(rows) < self.page_size and start <= self._known_end:
                self._end_reached = True
                self._known_end = start + len(rows)
                size_changed = True
        if size_changed:
            self._after_size_change()
        self.refresh()
        if page == self.cursor_row // self.page_size:
            self.post_message(self.Highlighted(self, self.cursor_key, self.cursor_row))
        return rows

    def _load_failed(self, error: Exception) -> None:
        """Stop at what is loaded and tell the screen why (one sentence, never a traceback)."""
        message = str(getattr(error, "message", "") or error) or type(error).__name__
        if self._count is None and not self._end_reached:
            self._end_reached = True
            self._after_size_change()
        self.refresh()
        self.post_message(self.LoadFailed(self, message))

    def _store_page(self, page: int, rows: list[Row]) -> None:
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > self._cache_pages:
            self._pages.popitem(last=False)

    # ----------------------------------------------------------------- cursor

    def _scroll_to_cursor(self) -> None:
        height = self._visible_rows()
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True)

    def _move_cursor(self, index: int) -> None:
        """Move the cursor, clamped; in range-mark mode, mark everything from the anchor."""
        last = max(self.row_count - 1, 0)
        self.cursor_row = min(max(index, 0), last)
        if self._range_anchor is not None:
            self._mark_range(self._range_anchor, self.cursor_row)

    def action_cursor_up(self) -> None:
        """Move the cursor up one record."""
        self._move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor down one record."""
        self._move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        """Move the cursor up one screenful."""
        self._move_cursor(self.cursor_row - self._visible_rows())

    def action_page_down(self) -> None:
        """Move the cursor down one screenful."""
        self._move_cursor(self.cursor_row + self._visible_rows())

    def action_first(self) -> None:
        """Jump to the first record."""
        self._move_cursor(0)

    def action_last(self) -> None:
        """Jump to the last record (fetching only the last page)."""
        self._move_cursor(self.row_count - 1)

    def action_open(self) -> None:
        """Open the record under the cursor."""
        row = self.row_at(self.cursor_row)
        if row is None:
            self.app.bell()  # still loading
            return
        self.post_message(self.Opened(self, row.key, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor; a click on the cursor row (or a double click) opens."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = int(self.scroll_y) + offset.y - 1
        if index >= self.row_count:
            return
        if index == self.cursor_row or event.chain >= 2:
            self.cursor_row = index
            self.action_open()
        else:
            self._move_cursor(index)


__all__ = ["MARK_GLYPH", "PLACEHOLDER", "RecordList"]
