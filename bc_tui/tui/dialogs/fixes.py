"""The fixes of one broken coupling (docs/coupling-and-sync.md "Deleted records and broken
couplings"): restore the deleted record, delete the coupling, or delete the surviving record —
offered on the list and the card with the errors screen's keys (tui/actions.py, place ``fixes``)."""

from __future__ import annotations

from typing import ClassVar
from typing import Literal as Choice

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal
from bc_tui.tui.widgets.footer import Footer

Fix = Choice["restore", "delete_coupling", "delete_record"]
"""A fix, named as the errors screen's action that does it."""

#: The buttons, in the errors screen's order (the footer shows each fix's key, the same as there).
_BUTTONS: tuple[tuple[Fix, str], ...] = (
    ("restore", "Restore record"),
    ("delete_coupling", "Delete coupling"),
    ("delete_record", "Delete surviving record"),
)


class FixesDialog(ModalScreen["Fix | None"]):
    """Says what is broken and dismisses with the fix chosen (None: escape, nothing done)."""

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("fixes")  # the keys: tui/actions.py

    def __init__(self, what: str, *, can_delete_survivor: bool = True) -> None:
        """``what``: the sentence naming the coupling and the deleted record; without a survivor
        (both records gone) there is no surviving record to delete."""
        super().__init__(classes="bc-dialog")
        self.what = what
        self.can_delete_survivor = can_delete_survivor

    def compose(self) -> ComposeResult:
        with Vertical(id="fixes-dialog", classes="dialog-panel"):
            yield Literal("Broken coupling", id="fixes-title", classes="dialog-title")
            yield Literal(self.what, id="fixes-what")
            with Horizontal(id="fixes-buttons", classes="dialog-buttons"):
                for fix, text in _BUTTONS:
                    if fix != "delete_record" or self.can_delete_survivor:
                        yield Button(text, id=f"fix-{fix}")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self._choose(str(event.button.id).removeprefix("fix-"))

    def _choose(self, fix: str) -> None:
        if fix == "delete_record" and not self.can_delete_survivor:
            return
        self.dismiss(fix)  # type: ignore[arg-type]  # one of the three names of `Fix`

    def action_restore(self) -> None:
        """Restore the deleted record from the surviving one, and couple them."""
        self._choose("restore")

    def action_delete_coupling(self) -> None:
        """Delete the coupling; neither record is touched."""
        self._choose("delete_coupling")

    def action_delete_record(self) -> None:
        """Delete the surviving record (asked once more), and the coupling."""
        self._choose("delete_record")

    def action_back(self) -> None:
        """Close without fixing anything."""
        self.dismiss(None)
