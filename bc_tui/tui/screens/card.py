"""The card: one BC record beside its coupled Dataverse record, one row per field mapping.

Each row shows the BC value, the Dataverse value, the field mapping's direction and what
changed since the last synchronization (the three-way diff: last synced / BC now / Dataverse
now) — changed in Business Central, changed in Dataverse, or a conflict, each in its own style
built from the theme's colours so it reads in the light and the dark theme, and each also
named in words in the State column. A conflicting field (docs/coupling-and-sync.md "Per-field
winners") shows its picked winner: ← keeps Business Central's value, → Dataverse's, e a value the
user types for both sides (✓ on the value kept, ★ on the recommended side), and synchronizing
takes these picks to the direction dialog.
Actions: set up coupling, synchronize, delete coupling, pick a conflict's winner, the
synchronization log of this record, its history (what each job wrote), refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bc_tui.domain.diff import FieldState
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.sync_state import FIELD_STATE_LABELS, state_help
from bc_tui.domain.text import shorten
from bc_tui.tui.backend import connected_session, not_connected_text
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.dialogs.edit_value import FieldPicking
from bc_tui.tui.feedback import error_sentence
from bc_tui.tui.field_text import arrow, show_value
from bc_tui.tui.flows import couple_flow, delete_coupling_flow, synchronize_flow, undo_flow
from bc_tui.tui.paths import style_path
from bc_tui.tui.screens.history import HistoryScreen
from bc_tui.tui.screens.log import LogScreen
from bc_tui.tui.shown import Literal, literal, notify
from bc_tui.tui.widgets.footer import Footer

if TYPE_CHECKING:
    from bc_tui.sync.couple import PreviewRow
    from bc_tui.sync.field_picks import FieldPick
    from bc_tui.sync.preview import FieldRow, SyncPreview

NOT_COUPLED = "not coupled"


# Which theme colours (text on muted background) mark each state; the theme decides the shades.
_STATE_COLOURS: dict[FieldState, tuple[str, str]] = {
    FieldState.CHANGED_IN_BC: ("text-primary", "primary-muted"),
    FieldState.CHANGED_IN_DATAVERSE: ("text-success", "success-muted"),
    FieldState.CHANGED_ON_BOTH: ("text-warning", "warning-muted"),
    FieldState.CONFLICT: ("text-error", "error-muted"),
    FieldState.DIFFERENT: ("text-warning", "warning-muted"),
}


class CardScreen(FieldPicking, Screen[bool]):
    """The card of the BC record ``bc_id`` of the table mapping ``mapping_name``.

    Dismisses with True when a coupling or a record changed while it was open (the caller then
    refreshes its lists), else False.
    """

    CSS_PATH = [style_path("card.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("card")  # the keys: tui/actions.py

    def __init__(self, mapping_name: str, bc_id: str) -> None:
        super().__init__(classes="card")
        self.mapping_name = mapping_name
        self.bc_id = bc_id
        self.preview: SyncPreview | None = None
        self.error: str | None = None
        self.changed = False
        self._flow_running = False
        self._bc_rows: list[PreviewRow] = []
        self.picks: dict[str, FieldPick] = {}  # the conflicting fields, by label
        self.picked: dict[str, SyncDirection] = {}  # their winners: SEND keeps BC's value, GET Dataverse's
        self.edits: dict[str, str] = {}  # values typed for conflicting text fields (over their pick)

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        with Horizontal(id="card-records"):
            with Vertical(id="card-bc", classes="card-side") as bc:
                bc.border_title = "Business Central"
                yield Literal("Loading…", id="card-bc-name", limit=None)  # full names
            with Vertical(id="card-dataverse", classes="card-side") as dataverse:
                dataverse.border_title = "Dataverse"
                yield Literal("", id="card-dataverse-name", limit=None)
        yield Literal("", id="card-summary")
        yield DataTable(id="card-fields", cursor_type="row", zebra_stripes=False)
        yield Static("", id="card-legend")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#card-fields", DataTable)
        # 106 columns of text + 12 of cell padding: fits 120 with the scrollbar. The State column
        # holds a conflict's winner too ("≠ different: Dataverse ★").
        table.add_column("Field", key="field", width=19)
        table.add_column("Business Central", key="bc", width=24)
        table.add_column("⇄", key="direction", width=1)
        table.add_column("Dataverse", key="dataverse", width=24)
        table.add_column("State", key="state", width=24)
        table.add_column("Last synced", key="last", width=14)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.load()

    def _theme_changed(self, _theme: Any) -> None:
        self._draw()

    # --- loading --------------------------------------------------------------------------------

    @property
    def summary(self) -> str:
        """The sentence under the header: the recommendation, a problem, or an error."""
        return str(self.query_one("#card-summary", Static).content)

    @work(exclusive=True, group="card-load")
    async def load(self) -> None:
        """Read the record, its coupling and its counterpart again, and show them."""
        from bc_tui.sync.couple import preview_coupling
        from bc_tui.sync.field_picks import record_choices
        from bc_tui.sync.preview import preview_sync

        session = connected_session(self.app)
        if session is None:
            self._show_error(not_connected_text(self.app))
            return
        self.query_one("#card-summary", Static).update("Loading…")
        try:
            preview = await preview_sync(session, self.mapping_name, self.bc_id)
            picks = record_choices(session, preview).picks
            bc_rows: list[PreviewRow] = []
            if not preview.fields and preview.bc_record is not None:
                # Not coupled (or the counterpart is gone): the BC values alone, per field mapping.
                bc_rows = (await preview_coupling(session, self.mapping_name, self.bc_id)).rows
        except Exception as error:  # noqa: BLE001 - shown as a sentence on the card
            self._show_error(error_sentence(error))
            return
        self.preview, self.error, self._bc_rows = preview, None, bc_rows
        first_picks = not self.picks
        # A winner picked earlier stays picked while its field still conflicts.
        self.picked = {p.label: self.picked.get(p.label, p.recommended) for p in picks}
        self.edits = {p.label: self.edits[p.label] for p in picks if p.label in self.edits}
        self.picks = {p.label: p for p in picks}
        self._draw()
        if picks and first_picks:
            # The cursor starts on the first conflicting field, so ← / → pick its winner at once.
            table = self.query_one("#card-fields", DataTable)
            table.move_cursor(row=table.get_row_index(picks[0].label))
        self.refresh_bindings()

    def _show_error(self, message: str) -> None:
        self.error = message
        self.preview = None
        summary = self.query_one("#card-summary", Static)
        summary.update(message)
        summary.set_class(True, "error")
        self.query_one("#card-bc-name", Static).update(f"{self.mapping_name} record {self.bc_id}")
        self.query_one("#card-fields", DataTable).clear()

    # --- drawing --------------------------------------------------------------------------------

    def _styles(self) -> dict[FieldState, Style]:
        variables = self.app.get_css_variables()
        styles: dict[FieldState, Style] = {}
        for state, (text, background) in _STATE_COLOURS.items():
            try:
                styles[state] = Style.parse(f"bold {variables[text]} on {variables[background]}")
            except Exception:  # noqa: BLE001 - a theme without these shades still marks the cell
                styles[state] = Style(bold=True, reverse=True)
        return styles

    def _draw(self) -> None:
        preview = self.preview
        if preview is None:
            return
        self.title = "Card"
        self.query_one("#card-bc-name", Static).update(preview.record)
        counterpart = preview.counterpart if preview.coupled else NOT_COUPLED
        if preview.coupled and counterpart is None:
            counterpart = "coupled to a deleted record"
        self.query_one("#card-dataverse-name", Static).update(counterpart or NOT_COUPLED)
        self.query_one("#card-dataverse", Vertical).set_class(not preview.coupled, "not-coupled")
        summary = self.query_one("#card-summary", Static)
        text = self._summary_text(preview)
        # The pair's state in the list's words, by the same domain rule (sync/pair_state.py), and
        # what it means on hover (docs/coupling-and-sync.md "States of a coupled pair").
        state = preview.state.value if preview.coupled and preview.state else None
        summary.update(f"Sync state: {state}. {text}" if state else text)
        summary.tooltip = state_help(state) if state else None
        summary.set_class(bool(preview.problem), "error")
        styles = self._styles()
        table = self.query_one("#card-fields", DataTable)
        table.clear()
        if preview.fields:
            for row in preview.fields:
                table.add_row(*self._field_cells(row, styles), key=row.label)
        else:
            for bc_row in self._bc_rows:
                table.add_row(
                    literal(bc_row.label),
                    literal(show_value(bc_row.bc_value)),
                    literal(arrow(bc_row.direction)),
                    literal(""),
                    literal(""),
                    literal(""),
                    key=bc_row.label,
                )
        self.query_one("#card-legend", Static).update(self._legend(styles))

    def _summary_text(self, preview: SyncPreview) -> str:
        if preview.problem and preview.coupled and (preview.bc_record is None or preview.dataverse_record is None):
            # A broken coupling: say where its fixes are (docs/coupling-and-sync.md "Checking couplings …").
            return f"{preview.problem} Press b for its fixes."
        if preview.problem:
            return preview.problem
        if not preview.coupled:
            record = shorten(preview.record)  # the sentence must still end with what to do
            return f"{record[:1].upper()}{record[1:]} is not coupled to Dataverse; press c to set up a coupling."
        advice = preview.recommendation
        if advice is None:
            return ""
        changed = [row for row in preview.fields if row.state is not FieldState.UNCHANGED]
        if not changed:
            return "Both records agree with the last synchronization; nothing to synchronize."
        text = " ".join(shorten(reason) for reason in advice.reasons[:3]) + (" …" if len(advice.reasons) > 3 else "")
        if self.picks:
            pick = (
                "Pick each conflict's winner with ← / → or type it with e (✓ kept, ★ recommended), "
                "then press s to synchronize."
            )
            return f"{text} {pick}"
        return f"{text} Press s to synchronize."

    def _field_cells(self, row: FieldRow, styles: dict[FieldState, Style]) -> list[Text]:
        style = styles.get(row.state)
        bc_style = (
            style
            if row.state
            in (FieldState.CHANGED_IN_BC, FieldState.CONFLICT, FieldState.CHANGED_ON_BOTH, FieldState.DIFFERENT)
            else None
        )
        dv_style = (
            style
            if row.state
            in (FieldState.CHANGED_IN_DATAVERSE, FieldState.CONFLICT, FieldState.CHANGED_ON_BOTH, FieldState.DIFFERENT)
            else None
        )
        pick = self.picks.get(row.label)
        if pick is not None:
            return self._pick_cells(row, pick, style)
        last = self._last_text(row)
        return [
            literal(row.label, style=Style(bold=True) if style else ""),
            literal(show_value(row.bc_now), style=bc_style or ""),
            literal(row.arrow),
            literal(show_value(row.dataverse_now), style=dv_style or ""),
            literal(FIELD_STATE_LABELS[row.state], style=style or ""),
            literal(last, style="italic"),
        ]

    def _pick_cells(self, row: FieldRow, pick: FieldPick, style: Style | None) -> list[Text]:
        """A conflicting field: ✓ on the value kept, the way it will flow, and who wins (★ recommended)."""
        edit = self.edits.get(row.label)
        if edit is not None:
            return [
                literal(row.label, style=Style(bold=True)),
                literal(show_value(row.bc_now), style=style or ""),
                literal("↔", style=Style(bold=True)),
                literal(show_value(row.dataverse_now), style=style or ""),
                literal(f"{FIELD_STATE_LABELS[row.state]}: ✎ {show_value(edit)}", style=style or ""),
                literal(self._last_text(row), style="italic"),
            ]
        bc_wins = self.picked[row.label] is SyncDirection.TO_DATAVERSE
        state = f"{FIELD_STATE_LABELS[row.state]}: {'BC' if bc_wins else 'Dataverse'}"
        if self.picked[row.label] is pick.recommended:
            state += " ★"
        return [
            literal(row.label, style=Style(bold=True)),
            literal(("✓ " if bc_wins else "") + show_value(row.bc_now), style=style or ""),
            literal("→" if bc_wins else "←", style=Style(bold=True)),
            literal(("" if bc_wins else "✓ ") + show_value(row.dataverse_now), style=style or ""),
            literal(state, style=style or ""),
            literal(self._last_text(row), style="italic"),
        ]

    @staticmethod
    def _last_text(row: FieldRow) -> str:
        """The Last synced cell: the value at the last synchronization, where it helps."""
        last = ""
        if row.state is not FieldState.UNCHANGED:
            if not row.has_history:
                last = "(never synchronized)"
            elif row.last_bc is not None and row.last_dataverse is not None and row.last_bc != row.last_dataverse:
                last = f"{show_value(row.last_bc)} / {show_value(row.last_dataverse)}"
            else:
                last = show_value(row.last_synced)
        return last

    def _legend(self, styles: dict[FieldState, Style]) -> Text:
        legend = Text()
        for state in (FieldState.CHANGED_IN_BC, FieldState.CHANGED_IN_DATAVERSE, FieldState.CONFLICT):
            legend.append(f" {FIELD_STATE_LABELS[state]} ", style=styles[state])
            legend.append("  ")
        legend.append("Last synced: the value at the last synchronization.", style="italic")
        return legend

    # --- actions --------------------------------------------------------------------------------

    def _start_flow(self, flow: Any) -> None:
        if self._flow_running:
            flow.close()
            return
        self._flow_running = True
        self.run_worker(self._run_flow(flow), group="card-flow")

    async def _run_flow(self, flow: Any) -> None:
        try:
            result = await flow
        finally:
            self._flow_running = False
        if result:
            self.changed = True
        self.load()

    def action_couple(self) -> None:
        """Set up (or change) the coupling of this record."""
        self._start_flow(couple_flow(self.app, self.mapping_name, self.bc_id))

    def action_synchronize(self) -> None:
        """Synchronize this record (the direction dialog recommends a side; conflicting fields
        start with the winners picked here)."""
        flow = synchronize_flow(
            self.app, self.mapping_name, [self.bc_id], picked=dict(self.picked), edits=dict(self.edits)
        )
        self._start_flow(flow)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The winner keys only while a field conflicts (else ← / → are not in the footer).
        if action in ("pick_bc", "pick_dataverse"):
            return bool(self.picks)
        if action == "pick_edit":
            return any(pick.editable for pick in self.picks.values())
        return True

    def action_pick_bc(self) -> None:
        """Business Central's value wins the conflicting field under the cursor."""
        self._pick(SyncDirection.TO_DATAVERSE)

    def action_pick_dataverse(self) -> None:
        """Dataverse's value wins the conflicting field under the cursor."""
        self._pick(SyncDirection.FROM_DATAVERSE)

    def action_pick_edit(self) -> None:
        """Type the value both sides get for the conflicting text field under the cursor."""
        pick = self._cursor_pick()
        if pick is None:
            return
        if not pick.editable:
            notify(self.app, f"{pick.label} is not text; pick Business Central or Dataverse.", severity="warning")
            return
        self._edit(pick)

    def _cursor_pick(self) -> FieldPick | None:
        """The conflicting field under the cursor; None (after saying so) on any other row."""
        table = self.query_one("#card-fields", DataTable)
        if not self.picks or self.preview is None or table.row_count == 0:
            return None
        label = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if label not in self.picks:
            notify(self.app, "Put the cursor on a conflicting field (✖) to pick its winner.", severity="warning")
            return None
        return self.picks[label]

    def _redraw(self, pick: FieldPick) -> None:
        assert self.preview is not None
        label = pick.label
        table = self.query_one("#card-fields", DataTable)
        row = next(r for r in self.preview.fields if r.label == label)
        cells = self._field_cells(row, self._styles())
        for column, cell in zip(("field", "bc", "direction", "dataverse", "state", "last"), cells, strict=True):
            table.update_cell(label, column, cell)

    def action_delete_coupling(self) -> None:
        """Delete this record's coupling (neither record changes)."""
        self._start_flow(delete_coupling_flow(self.app, self.mapping_name, [self.bc_id]))

    def action_fix_broken(self) -> None:
        """Offer the fixes of this record's coupling when a record of it is gone."""
        from bc_tui.tui.fix_flow import fix_broken_flow

        self._start_flow(fix_broken_flow(self.app, self.mapping_name, self.bc_id))

    def action_log(self) -> None:
        """Open the synchronization log filtered to this record."""
        record = self.preview.record if self.preview is not None else None
        self.app.push_screen(LogScreen(bc_id=self.bc_id, record_name=record))

    def action_history(self) -> None:
        """Open what the synchronization jobs wrote to this record, field by field (``u`` there
        undoes one job for this record, ``F`` forcing one field back)."""
        record = self.preview.record if self.preview is not None else None

        async def undo(job_id: int, *force: str) -> object:
            result = await undo_flow(self.app, job_id, [self.bc_id], record or self.bc_id, force=force)
            if result is not None:
                self.changed = True
                self.load()
            return result

        self.app.push_screen(HistoryScreen(self.mapping_name, self.bc_id, record, undo=undo, force=undo))

    def action_refresh(self) -> None:
        """Read both records again."""
        self.load()

    def action_back(self) -> None:
        """Back to the list."""
        self.dismiss(self.changed)
