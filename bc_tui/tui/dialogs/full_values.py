"""Every value of one list row in full: the list cuts cells to their column (16–25 characters),
so ``i`` on a row opens this popup, where each value wraps instead of being cut. Values are data:
shown literally (docs/showing-data.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal
from bc_tui.tui.sources import Column, Row
from bc_tui.tui.widgets.footer import Footer


class FullValuesDialog(ModalScreen[None]):
    """The title and the ``(column title, value)`` pairs of one row, each value in full."""

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("values")  # the keys: tui/actions.py
    DEFAULT_CSS = """
    FullValuesDialog #values-dialog { max-height: 80%; height: auto; }
    FullValuesDialog .values-title { text-style: bold; }
    FullValuesDialog .values-value { margin-bottom: 1; }
    """

    def __init__(self, title: str, values: Sequence[tuple[str, str]], note: str = "") -> None:
        """``note``: a sentence under the values (e.g. what "outside filter" means)."""
        super().__init__(classes="bc-dialog")
        self.dialog_title = title
        self.values = list(values)
        self.note = note

    @classmethod
    def of_row(cls, columns: Sequence[Column], row: Row, note: str = "") -> FullValuesDialog:
        """The popup of ``row`` as a list of ``columns`` shows it, titled by its number and name."""
        values = [(column.title, row.cells.get(column.key, "")) for column in columns if column.key != "coupled"]
        title = " ".join(v for v in (row.cells.get("number", ""), row.cells.get("name", "")) if v)
        return cls(title or "Full values", values, note)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="values-dialog", classes="dialog-panel"):
            yield Literal(self.dialog_title, classes="dialog-title")
            for title, value in self.values:
                yield Literal(title, classes="values-title")
                yield Literal(value or "—", limit=None, classes="values-value")
            if self.note:
                yield Literal(self.note, limit=None, id="values-note", classes="dialog-warning")
        yield Footer()

    def action_close(self) -> None:
        """Close the popup."""
        self.dismiss(None)


__all__ = ["FullValuesDialog"]
