"""The help screen: every key of the screen the user came from, with what it does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from bc_tui.domain.sync_state import state_legend
from bc_tui.domain.text import printable
from bc_tui.tui.bindings import BindingEntry, bindings_for
from bc_tui.tui.shown import Literal


class HelpScreen(ModalScreen[None]):
    """A modal table of keys, descriptions and where each key works."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("help")  # the keys: tui/actions.py

    def __init__(self, entries: Sequence[BindingEntry]) -> None:
        super().__init__()
        self._entries = list(entries)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("Keys", id="help-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)
            yield Static("States of a coupled pair (the lists' Sync state, the card)", id="help-states-title")
            yield DataTable(id="help-states", cursor_type="row", zebra_stripes=True)
            yield Literal(
                "esc closes · keys can be remapped in the [keys] table of the config file",
                id="help-hint",
            )

    def on_mount(self) -> None:
        states = self.query_one("#help-states", DataTable)
        states.add_column("State", width=20)
        states.add_column("What it means", width=78)
        for words, meaning in state_legend():
            # Our own words (no markup in them); height None: a long meaning wraps to a second line.
            states.add_row(Text(words), Text(meaning), height=None)
        table = self.query_one("#help-table", DataTable)
        table.add_columns("Keys", "Action", "Where", "Binding id")
        # The list's keys first, then the screen's, then the app's: nearest first, as they apply.
        for entry in self._entries:
            # DataTable reads a plain string as markup, and keys come from the config's [keys]
            # table: escaped (and printable), each cell reads literally.
            table.add_row(
                *(
                    escape(printable(value))
                    for value in (entry.keys_text, entry.description, entry.where, entry.binding_id or "")
                )
            )
        table.focus()
