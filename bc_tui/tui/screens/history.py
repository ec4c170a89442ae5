"""A record's history (docs/undo-and-history.md "History"), opened from its card: each job that
wrote the BC record or its Dataverse counterpart, when, in which direction, and each field
before → after. ``u`` undoes the highlighted job for this record only, and ``F`` does so forcing the
highlighted field back although the record changed since, through the flows the card hands in
(this screen sits below the flows and opens nothing itself)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bc_tui.domain.text import shorten
from bc_tui.domain.words import job_type_text, short_direction
from bc_tui.sync.history import history_of_record
from bc_tui.tui.backend import app_session
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.field_text import show_value
from bc_tui.tui.paths import style_path
from bc_tui.tui.screens.log import local_time
from bc_tui.tui.shown import Literal, literal
from bc_tui.tui.widgets.footer import Footer
from bc_tui.tui.widgets.list_text import fit

if TYPE_CHECKING:
    from bc_tui.sync.history import HistoryEntry


class HistoryScreen(Screen[None]):
    """What the synchronization jobs wrote to one coupled pair, newest first, one row per field."""

    CSS_PATH = [style_path("jobs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("history")  # the keys: tui/actions.py

    def __init__(
        self,
        mapping_name: str,
        bc_id: str,
        record_name: str | None = None,
        *,
        undo: Callable[[int], Awaitable[object]] | None = None,
        force: Callable[[int, str], Awaitable[object]] | None = None,
    ) -> None:
        """``undo(job_id)``: undo that job for this record (the card passes its flow: this
        screen sits below the flows and opens nothing itself); None: no undo here.
        ``force(job_id, label)``: the same, forcing that field back although changed since."""
        super().__init__()
        self._undo = undo
        self._force = force
        self.mapping_name = mapping_name
        self.bc_id = bc_id
        self.record_name = record_name
        self.entries: list[HistoryEntry] = []
        self._row_entries: list[int] = []  # per table row: the index of its entry

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Literal(f"History of {shorten(self.record_name or self.bc_id)}", id="log-title")
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Literal("", id="log-message")
        yield Footer()

    async def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        for key, label in (
            ("at", "Date/time"),
            ("job", "Job"),
            ("type", "Type"),
            ("direction", "Dir."),
            ("side", "Written"),
            ("field", "Field"),
            ("before", "Before"),
            ("after", "After"),
        ):
            table.add_column(label, key=key)
        await self.load()
        self.refresh_bindings()
        table.focus()

    async def load(self) -> None:
        """Read the record's history again."""
        message = self.query_one("#log-message", Static)
        session = app_session(self.app)
        try:
            if session is None:
                raise RuntimeError("the coupling database is not open yet")
            self.entries = await history_of_record(session, self.mapping_name, self.bc_id)
        except Exception as error:  # noqa: BLE001 - a broken history must not close the app
            self.entries = []
            message.update(f"The history could not be read: {error}")
            return
        table = self.query_one("#history-table", DataTable)
        table.clear()
        self._row_entries = [n for n, entry in enumerate(self.entries) for _ in entry.fields]
        for n, entry in enumerate(self.entries):
            fields = entry.fields or ()
            for m, field in enumerate(fields):
                table.add_row(*self._cells(entry, field.label, field.before, field.after, first=m == 0), key=f"{n}.{m}")
        count = len(self.entries)
        message.update(
            f"{count} {'change' if count == 1 else 'changes'} by synchronization jobs, newest first."
            if count
            else "No synchronization job has written this record yet."
        )

    @staticmethod
    def _cells(entry: HistoryEntry, label: str, before: object, after: object, *, first: bool) -> tuple[object, ...]:
        # The job's columns only on its first field, so that each job reads as one block.
        head = (
            (
                local_time(entry.at, seconds=True),
                str(entry.job_id),
                job_type_text(entry.job_type),
                short_direction(entry.direction),
                entry.service,
            )
            if first
            else ("", "", "", "", "")
        )
        return (
            *(literal(text) for text in head),
            literal(label),
            literal(_value_cell(before)),
            literal(_value_cell(after)),
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_record":
            return self._undo is not None and bool(self.entries)
        if action == "force_field":
            return self._force is not None and bool(self.entries)
        return True

    def action_undo_record(self) -> None:
        """Undo the highlighted row's job for this record only, after a confirmation."""
        row = self.query_one("#history-table", DataTable).cursor_row
        if self._undo is not None and 0 <= row < len(self._row_entries):
            self.run_worker(self._undo_job(self._undo, self.entries[self._row_entries[row]].job_id), group="undo")

    def action_force_field(self) -> None:
        """Undo the highlighted row's job for this record, forcing the row's field back although
        the record changed since (after a confirmation that says so)."""
        row = self.query_one("#history-table", DataTable).cursor_row
        if self._force is None or not 0 <= row < len(self._row_entries):
            return
        entry = self.entries[self._row_entries[row]]
        # The row's field: the rows of one entry are its fields, in order.
        field = entry.fields[row - self._row_entries.index(self._row_entries[row])]
        force = self._force
        self.run_worker(self._undo_job(lambda job_id: force(job_id, field.label), entry.job_id), group="undo")

    async def _undo_job(self, undo: Callable[[int], Awaitable[object]], job_id: int) -> None:
        if await undo(job_id) is not None and self.is_mounted:
            await self.load()

    async def action_refresh(self) -> None:
        """Read the history again."""
        await self.load()

    def action_back(self) -> None:
        """Back to the card."""
        self.dismiss(None)


#: Cells a before or after value takes: both stay on a 120-column screen next to the job's
#: columns (``bc-tui history`` prints values whole).
VALUE_WIDTH = 22


def _value_cell(value: object) -> str:
    """A before/after value, cut with an ellipsis to ``VALUE_WIDTH`` cells."""
    text = show_value(value)
    return text if cell_len(text) <= VALUE_WIDTH else fit(text, VALUE_WIDTH)
