"""How a record list draws text: cells cut or padded to their column, and a row's style.

Every cell and title goes through :func:`fit`, so this is where data becomes printable (see
docs/showing-data.md). No widget here: ``widgets/record_list.py`` draws with these.
"""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len, set_cell_size
from rich.style import Style

from bc_tui.domain.text import printable

#: The mark of a marked row: not the coupled mark "●" of the coupled column.
MARK_GLYPH = "✓"
PLACEHOLDER = "…"
MARK_WIDTH = 2  # the glyph and a space
GAP = 1  # cells between columns


@lru_cache(maxsize=256)
def parse_style(style: str) -> Style:
    """Parse a row's style string once (rows repeat the same few styles)."""
    try:
        return Style.parse(style)
    except Exception:  # noqa: BLE001 - a bad style from a source must not break drawing
        return Style()


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` cells (an ellipsis shows a cut).

    Every cell and title is drawn through here, so this is where data becomes printable: a
    record's name is written to the terminal as segments, and an ESC in it would reach the
    terminal raw (see docs/showing-data.md).
    """
    text = printable(text.replace("\n", " "))
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + PLACEHOLDER


__all__ = ["GAP", "MARK_GLYPH", "MARK_WIDTH", "PLACEHOLDER", "fit", "parse_style"]
