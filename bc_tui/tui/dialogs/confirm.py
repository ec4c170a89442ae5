"""A small yes/no question: "not coupled — create a coupling?", one-way synchronizations (whose
default is No when the destination holds newer data), deleting couplings, creating records."""

from __future__ import annotations

from typing import ClassVar

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


class ConfirmDialog(ModalScreen[bool]):
    """Ask one question; dismisses with True (yes) or False (no, or escape).

    ``default`` is the answer ``enter`` gives straight away (the focused button): BC asks
    "overwrite the newer data?" with No pre-selected, everything else with Yes.
    """

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("confirm")  # the keys: tui/actions.py

    def __init__(
        self,
        question: str,
        *,
        title: str = "Confirm",
        detail: str | None = None,
        default: bool = True,
        yes_label: str = "Yes",
        no_label: str = "No",
    ) -> None:
        """``question``: the sentence to answer; ``detail``: a warning or explanation below it."""
        super().__init__(classes="bc-dialog")
        self.question = question
        self.dialog_title = title
        self.detail = detail
        self.default = default
        self._yes_label = yes_label
        self._no_label = no_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog-panel"):
            yield Literal(self.dialog_title, id="confirm-title", classes="dialog-title")
            yield Literal(self.question, id="confirm-question")
            if self.detail:
                yield Literal(self.detail, id="confirm-detail", classes="dialog-warning")
            with Horizontal(id="confirm-buttons", classes="dialog-buttons"):
                yield Button(self._yes_label, id="confirm-yes", variant="primary" if self.default else "default")
                yield Button(self._no_label, id="confirm-no", variant="default" if self.default else "primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-yes" if self.default else "#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        """Close the dialog with ``answer``."""
        self.dismiss(answer)


def delete_survivor_dialog(what: str, *, several: bool = False) -> ConfirmDialog:
    """The question before deleting the surviving record(s) of broken couplings (``what`` names
    them): No is the default, since a deletion cannot be undone."""
    return ConfirmDialog(
        f"Delete {what}?",
        title="Delete the surviving records" if several else "Delete the surviving record",
        detail="The record is deleted in Business Central or Dataverse, and its coupling with it. "
        "This cannot be undone.",
        default=False,
        yes_label="Delete",
        no_label="Keep",
    )
