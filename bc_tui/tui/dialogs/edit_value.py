"""The edited value of one conflicting text field (docs/coupling-and-sync.md "Per-field winners"):
instead of keeping Business Central's or Dataverse's value, the user types the value both sides
get. Both current values are shown literally above the input.

:class:`FieldPicking` is what the record card and the direction dialog share to pick a conflicting
field's winner: a side (dropping a typed value) or, through this dialog, a typed value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.text import shorten
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.field_text import show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal
from bc_tui.tui.widgets.footer import Footer

if TYPE_CHECKING:
    from textual.app import App

    from bc_tui.sync.field_picks import FieldPick


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


class _PickingScreen(Protocol):
    """What a screen that picks the winners of conflicting fields offers :class:`FieldPicking`."""

    picked: dict[str, SyncDirection]
    edits: dict[str, str]

    @property
    def app(self) -> App[Any]: ...

    def _cursor_pick(self) -> FieldPick | None: ...

    def _redraw(self, pick: FieldPick) -> None: ...


class FieldPicking:
    """The per-field winner picks shared by the record card and the direction dialog.

    The screen keeps ``picked`` (SEND keeps Business Central's value, GET Dataverse's) and ``edits``
    (values typed over a pick), finds the field under its cursor and redraws its row.
    """

    def _pick(self: _PickingScreen, side: SyncDirection) -> None:
        pick = self._cursor_pick()
        if pick is None:
            return
        self.picked[pick.label] = side
        self.edits.pop(pick.label, None)  # a side's value replaces a typed one
        self._redraw(pick)

    def _edit(self: _PickingScreen, pick: FieldPick) -> None:
        """Ask for the value both sides get, starting from the value kept so far (or typed)."""
        kept = pick.bc_value if self.picked[pick.label] is SyncDirection.TO_DATAVERSE else pick.dataverse_value
        start = self.edits.get(pick.label, "" if kept is None else str(kept))

        def edited(value: str | None) -> None:
            if value is not None:
                self.edits[pick.label] = value
                self._redraw(pick)

        self.app.push_screen(EditValueDialog(pick.label, pick.bc_value, pick.dataverse_value, start), edited)
