"""Match-Based Coupling (docs/coupling-and-sync.md "Match-based coupling", "Select Coupling Criteria"):
pick the fields to match on, then run.

A grid over the table mapping's field mappings (match on this field, case-sensitive matching,
match priority), pre-filled from the mapping; header options Synchronize After Coupling and
Create New If Unable to Find a Match. ``flows.match_flow`` runs the coupling under the job
dialog, whose summary says how many records were coupled, created and failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from bc_tui.domain.mappings import FieldMapping, SyncDirection, TableMapping
from bc_tui.domain.matching import MatchCriterion, match_criteria, no_criteria_message
from bc_tui.domain.words import DIRECTION_WORDS
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal, literal
from bc_tui.tui.widgets.footer import Footer

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE

SYNC_AFTER_TEXT: dict[SyncDirection | None, str] = {
    None: "No",
    SEND: DIRECTION_WORDS[SEND].after_coupling,
    GET: DIRECTION_WORDS[GET].after_coupling,
}
"""The Synchronize After Coupling choices, in BC's words."""

MAX_PRIORITY = 9


@dataclass(frozen=True)
class MatchRequest:
    """What the user chose in the dialog: the criteria and the two header options."""

    criteria: tuple[MatchCriterion, ...]
    create_new: bool = False
    sync_after: SyncDirection | None = None


@dataclass(frozen=True)
class _Row:
    """One line of the grid: a field mapping and how it takes part in matching."""

    field: FieldMapping
    match: bool = False
    case_sensitive: bool = False
    priority: int = 0


def _box(ticked: bool) -> Text:
    return Text("[x]" if ticked else "[ ]")


class MatchDialog(ModalScreen[MatchRequest | None]):
    """Select Coupling Criteria for one table mapping; dismisses with a `MatchRequest` or None."""

    CSS_PATH = [style_path("jobs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("match")  # the keys: tui/actions.py

    def __init__(self, mapping: TableMapping) -> None:
        super().__init__()
        self.mapping = mapping
        # Disabled field mappings are not read from the services, so they cannot be matched on
        # (unless the mapping itself flags one, which then shows so it can be unticked).
        self._fields = [f for f in mapping.fields if f.enabled or f.use_for_matching]
        self.rows: list[_Row] = self._default_rows()
        self.create_new = False
        self.sync_after: SyncDirection | None = None
        self._sync_choices: list[SyncDirection | None] = [None] + [d for d in (SEND, GET) if mapping.allows(d)]

    # --- state -----------------------------------------------------------------------------

    def _default_rows(self) -> list[_Row]:
        chosen = {c.field.label: c for c in match_criteria(self.mapping)}
        rows = []
        for field in self._fields:
            criterion = chosen.get(field.label)
            if criterion is None:
                rows.append(_Row(field))
            else:
                rows.append(_Row(field, True, criterion.case_sensitive, criterion.priority))
        return rows

    @property
    def criteria(self) -> tuple[MatchCriterion, ...]:
        """The criteria as ticked in the grid, lowest priority first."""
        chosen = [MatchCriterion(r.field, r.case_sensitive, r.priority) for r in self.rows if r.match]
        return tuple(sorted(chosen, key=lambda c: c.priority))

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="match-dialog"):
            yield Literal(f"Match-Based Coupling · {self.mapping.name}", id="match-title")
            yield Literal(
                "Uncoupled Business Central records are coupled to the one uncoupled Dataverse record whose "
                "ticked fields match. Lower priority numbers are tried first; fields of one priority must "
                "all match.",
                id="match-intro",
            )
            with Vertical(id="match-options"):
                yield Literal("", id="match-sync-after", classes="match-option")
                yield Literal("", id="match-create-new", classes="match-option")
            yield DataTable(id="match-grid", cursor_type="row", zebra_stripes=True)
            yield Literal("", id="match-error", classes="-empty")
            with Horizontal(id="match-buttons"):
                yield Button("Run", id="match-run-button", variant="primary")
                yield Button("Reset criteria", id="match-reset-button")
                yield Button("Cancel", id="match-cancel-button")
            yield Literal(
                "space match · c case-sensitive · +/- priority · s sync after · n create new · "
                "r reset · enter run · esc cancel",
                id="match-hint",
            )
        yield Footer()

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False  # keys go to the grid; the buttons are for the mouse
        table = self.query_one("#match-grid", DataTable)
        table.add_column("Field", key="field", width=22)
        table.add_column("Dataverse field", key="dataverse", width=24)
        table.add_column("Match on this field", key="match")
        table.add_column("Case-sensitive", key="case")
        table.add_column("Priority", key="priority")
        for index, row in enumerate(self.rows):
            table.add_row(*self._cells(row), key=str(index))
        self._show_options()
        table.focus()

    def _cells(self, row: _Row) -> tuple[Text, ...]:
        return (
            literal(row.field.label),
            literal(row.field.dataverse_field),
            _box(row.match),
            _box(row.case_sensitive),
            literal(str(row.priority) if row.match else ""),
        )

    def _redraw_row(self, index: int) -> None:
        table = self.query_one("#match-grid", DataTable)
        for column, value in zip(
            ("field", "dataverse", "match", "case", "priority"), self._cells(self.rows[index]), strict=True
        ):
            table.update_cell(str(index), column, value)

    def _show_options(self) -> None:
        self.query_one("#match-sync-after", Static).update(
            f"Synchronize After Coupling (s): {SYNC_AFTER_TEXT[self.sync_after]}"
        )
        self.query_one("#match-create-new", Static).update(
            f"Create New If Unable to Find a Match (n): {'[x]' if self.create_new else '[ ]'}"
        )

    def _show_error(self, message: str | None) -> None:
        error = self.query_one("#match-error", Static)
        error.update(message or "")
        error.set_class(not message, "-empty")

    # --- actions ---------------------------------------------------------------------------

    @property
    def _cursor(self) -> int | None:
        table = self.query_one("#match-grid", DataTable)
        return table.cursor_row if self.rows and 0 <= table.cursor_row < len(self.rows) else None

    def _change(self, **changes: object) -> None:
        index = self._cursor
        if index is None:
            return
        self.rows[index] = replace(self.rows[index], **changes)  # type: ignore[arg-type]
        self._redraw_row(index)
        self._show_error(None)

    def action_toggle_match(self) -> None:
        """Tick or untick Match on this Field for the field under the cursor."""
        if (index := self._cursor) is not None:
            self._change(match=not self.rows[index].match)

    def action_toggle_case(self) -> None:
        """Tick or untick Case-sensitive Matching (ticks Match on this Field too)."""
        if (index := self._cursor) is not None:
            row = self.rows[index]
            self._change(case_sensitive=not row.case_sensitive, match=True)

    def action_priority(self, step: int) -> None:
        """Raise or lower the Match Priority (0 is tried first; ticks Match on this Field)."""
        if (index := self._cursor) is not None:
            row = self.rows[index]
            self._change(priority=min(MAX_PRIORITY, max(0, row.priority + step)), match=True)

    def action_cycle_sync_after(self) -> None:
        """Synchronize After Coupling: No → use the BC data → use the Dataverse data."""
        choices = self._sync_choices
        self.sync_after = choices[(choices.index(self.sync_after) + 1) % len(choices)]
        self._show_options()

    def action_toggle_create_new(self) -> None:
        """Create New If Unable to Find a Match: create the unmatched records in Dataverse."""
        self.create_new = not self.create_new
        self._show_options()

    def action_reset(self) -> None:
        """Reset Criteria: back to the table mapping's own match fields."""
        self.rows = self._default_rows()
        for index in range(len(self.rows)):
            self._redraw_row(index)
        self._show_error(None)

    def action_run(self) -> None:
        """Run match-based coupling with these criteria (refused, with the reason, without any)."""
        criteria = self.criteria
        if not criteria:
            self._show_error(no_criteria_message(self.mapping.name))
            return
        self.dismiss(MatchRequest(criteria, self.create_new, self.sync_after))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "match-run-button":
            self.action_run()
        elif event.button.id == "match-reset-button":
            self.action_reset()
        else:
            self.dismiss(None)

    def on_click(self, event: events.Click) -> None:
        # The header options are plain lines: a click changes them, as their key does.
        widget_id = getattr(event.widget, "id", None)
        if widget_id == "match-sync-after":
            self.action_cycle_sync_after()
        elif widget_id == "match-create-new":
            self.action_toggle_create_new()
