"""How a record list draws its lines (the Line API): the header, each row with its mark, the
cursor, the row's style and each cell's tone. The drawing half of ``RecordList``
(``widgets/record_list.py``); cells are cut to their column by ``widgets/list_text.py``.
"""

from __future__ import annotations

from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from bc_tui.tui.sources import Row
from bc_tui.tui.widgets.list_marks import MarkingList
from bc_tui.tui.widgets.list_text import GAP, MARK_GLYPH, MARK_WIDTH, PLACEHOLDER, fit, parse_style

#: The tones a row may give a cell (``Row.tones``).
TONES = ("primary", "success", "warning", "error")


class DrawingList(MarkingList):
    """The drawing half of ``RecordList``; the rows, cursor and fetching are the subclass's."""

    _widths: list[int]
    _pages: OrderedDict[int, list[Row]]

    def _column_widths(self) -> list[int]:
        return [max(column.width, 1) for column in self._source.columns]

    def render_line(self, y: int) -> Strip:
        """Draw line ``y`` of the viewport: the header at 0, then records from the scroll offset."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header_style = self.get_component_rich_style("record-list--header")
            text = " " * MARK_WIDTH + "".join(
                fit(column.title, w) + " " * GAP for column, w in zip(self._source.columns, self._widths, strict=True)
            )
            strip = Strip([Segment(text, header_style)])
            return strip.crop_extend(scroll_x, scroll_x + width, header_style)
        index = int(scroll_y) + y - 1
        if index >= self.row_count:
            return Strip.blank(width, base)
        strip, fill = self._render_row(index, base)
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def _render_row(self, index: int, base: Style) -> tuple[Strip, Style]:
        """The full-width line of record ``index`` on ``base`` (the widget's style), and its padding.

        ``base`` comes from the caller: Textual computes ``rich_style`` anew on each read, from
        every ancestor's styles, and that was a sizeable part of drawing a list.
        """
        row = self.row_at(index)
        if row is not None:
            self._pages.move_to_end(index // self.page_size)  # recently drawn: keep it
        style = base
        if row is not None and row.style:
            style = style + parse_style(row.style)
        marked = row is not None and self._marks.is_marked(row.key)
        if marked:
            style = style + self.get_component_rich_style("record-list--marked", partial=True)
        glyph_style = style + self.get_component_rich_style("record-list--mark", partial=True)
        cursor = Style()
        if index == self.cursor_row:
            cursor = self.get_component_rich_style("record-list--cursor", partial=True)
            glyph_style = glyph_style + cursor
        tones = row.tones if row is not None else {}
        cell_styles = [
            style + self.get_component_rich_style(f"record-list--tone-{tones[column.key]}", partial=True) + cursor
            if tones.get(column.key) in TONES
            else style + cursor
            for column in self._source.columns
        ]
        style = style + cursor
        segments = [Segment(f"{MARK_GLYPH} " if marked else "  ", glyph_style)]
        if row is None:
            placeholder = style + self.get_component_rich_style("record-list--placeholder", partial=True)
            first_width = self._widths[0] if self._widths else 1
            segments.append(Segment(fit(PLACEHOLDER, first_width), placeholder))
        else:
            for column, w, cell_style in zip(self._source.columns, self._widths, cell_styles, strict=True):
                segments.append(Segment(fit(row.cells.get(column.key, ""), w), cell_style))
                segments.append(Segment(" " * GAP, style))
        return Strip(segments), style

    def render_lines_text(self) -> list[str]:
        """The viewport as plain text lines (for tests and screen readers of the log)."""
        return [self.render_line(y).text for y in range(self.scrollable_content_region.height)]
