"""The edited value of one conflicting text field (docs/coupling-and-sync.md "Per-field winners"):
instead of keeping Business Central's or Dataverse's value, the user types the value both sides
get. Both current values are shown literally above the input."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from bc_tui.domain.text import shorten
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.field_text import show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal
from bc_tui.tui.widgets.footer import Footer


class EditValueDialog(ModalScreen[str | None]):
    """Type the value of the field ``label`` for both sides; dismisses with the text, or None.

    ``value`` is the text the input starts with (the value kept so far, or an earlier edit).
    """

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("edit")  # the keys: tui/actions.py

    def __init__(self, label: str, bc_value: Any, dataverse_value: Any, value: str) -> None:
        super().__init__(classes="bc-dialog")
        self.label = label
        self.bc_value = bc_value
        self.dataverse_value = dataverse_value
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog", classes="dialog-panel"):
            yield Literal(f"Edit {shorten(self.label)}", classes="dialog-title")
            yield Literal(
                f"Business Central has {shorten(show_value(self.bc_value))!r}; "
                f"Dataverse has {shorten(show_value(self.dataverse_value))!r}.",
                id="edit-values",
            )
            yield Literal("Type the value both sides get:", id="edit-question")
            yield Input(value=self.value, id="edit-value", select_on_focus=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_ok(self) -> None:
        """Keep the typed value for both sides."""
        self.dismiss(self.query_one(Input).value)

    def action_cancel(self) -> None:
        """Close without changing the field's pick."""
        self.dismiss(None)

    @on(Input.Submitted, "#edit-value")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
