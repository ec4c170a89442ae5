"""The synchronization log (docs/coupling-and-sync.md "The synchronization log and its errors"): the jobs
with their counters, and the errors of one job.

Read-only: the job log comes from ``bc_tui.sync.logged_jobs``; the one write there is marking jobs
whose process is gone as interrupted, so none shows "running" forever (docs/interrupted-jobs.md).
``LogScreen(job_id=…)`` opens one job's errors straight away (the job dialog's "failures" key);
``LogScreen(bc_id=…)`` shows only the jobs and errors of one record (the card's log action).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bc_tui.domain.text import shorten
from bc_tui.domain.words import job_type_text, short_direction
from bc_tui.sync import logged_jobs
from bc_tui.sync.errors import SyncError
from bc_tui.sync.logged_jobs import COUNTERS, JobErrorRecord, JobRecord, JobStatus
from bc_tui.tui.backend import store_session
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.export_path import export_rows
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal, literal, sentence
from bc_tui.tui.widgets.footer import Footer

# The counters are narrow columns (the full words are in the line under the table).
COUNTER_HEADERS = {
    "inserted": "Ins",
    "modified": "Mod",
    "deleted": "Del",
    "unchanged": "Unch",
    "skipped": "Skip",
    "failed": "Fail",
    "conflicts": "Conf",
    "coupled": "Cpl",
    "uncoupled": "Ucpl",
    "unmatched": "Unm",
}
JOB_LIMIT = 500


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """A stored (UTC) time as the user's local time, e.g. ``2024-05-01 14:03``."""
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def duration_text(duration: timedelta | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min``, ``2 h 05``; "running" when the job has not ended."""
    if duration is None:
        return "running"
    seconds = duration.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d}"


def job_line(job: JobRecord) -> str:
    """One sentence about a job, with its counters in full words (the line under the table)."""
    what = job_type_text(job.type)
    parts = [f"Job {job.id}", what]
    if job.mapping:
        parts.append(job.mapping)
    if job.direction:
        parts.append(short_direction(job.direction))
    parts.append(str(job.status))
    counts = ", ".join(f"{name.capitalize()} {getattr(job, name):,}" for name in COUNTERS if getattr(job, name))
    parts.append(counts or "nothing counted")
    line = " · ".join(parts)
    return f"{line}. {job.message}" if job.message else f"{line}."


class LogScreen(Screen[None]):
    """The synchronization jobs (newest first) and, on ``enter``, the errors of one."""

    class UndoRequested(Message):
        """The user asked to undo a job (the app runs the undo: this screen opens nothing)."""

        def __init__(self, log: LogScreen, job_id: int) -> None:
            super().__init__()
            self.log = log
            self.job_id = job_id

    CSS_PATH = [style_path("jobs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("log")  # the keys: tui/actions.py

    def __init__(self, *, job_id: int | None = None, bc_id: str | None = None, record_name: str | None = None) -> None:
        """``job_id``: open that job's errors at once; ``bc_id``: only that BC record's jobs and
        errors (``record_name`` names it in the title, e.g. "customer 10000 Adatum")."""
        super().__init__()
        self.job_id = job_id
        self.bc_id = bc_id.lower() if bc_id else None
        self.record_name = record_name
        self.jobs: list[JobRecord] = []
        self.errors: list[JobErrorRecord] = []
        self.open_job_id: int | None = None
        """The job whose errors the second table shows (None: the table is hidden)."""

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Literal(self._title(), id="log-title")
        yield DataTable(id="log-jobs", cursor_type="row", zebra_stripes=True)
        yield Literal("", id="log-errors-title")
        yield DataTable(id="log-errors", cursor_type="row", zebra_stripes=True)
        yield Literal("", id="log-message")
        yield Footer()

    def _title(self) -> str:
        if self.bc_id:
            return f"Synchronization log of {shorten(self.record_name or self.bc_id)}"
        return "Synchronization log"

    async def on_mount(self) -> None:
        table = self.query_one("#log-jobs", DataTable)
        table.add_column("Started", key="started")
        table.add_column("Duration", key="duration")
        table.add_column("Type", key="type")
        table.add_column("Mapping", key="mapping")
        table.add_column("Dir.", key="direction")
        table.add_column("Status", key="status")
        for name in COUNTERS:
            table.add_column(COUNTER_HEADERS[name], key=name)
        errors = self.query_one("#log-errors", DataTable)
        errors.add_column("Date/time", key="at")
        errors.add_column("Source", key="source", width=28)
        errors.add_column("Destination", key="destination", width=28)
        errors.add_column("Message", key="message")
        self.add_class("-no-errors-table")
        await self.load()
        if self.job_id is not None:
            await self.show_errors(self.job_id)
        else:
            table.focus()

    # --- data ------------------------------------------------------------------------------

    async def load(self) -> None:
        """Read the jobs again (keeping the cursor on the same job) and the open job's errors."""
        table = self.query_one("#log-jobs", DataTable)
        keep = self._highlighted_job_id()
        try:
            self.jobs = await self._read_jobs()
        except Exception as error:  # noqa: BLE001 - a broken log must not close the app
            self.jobs = []
            self._say(f"The synchronization log could not be read: {error}")
        table.clear()
        for job in self.jobs:
            table.add_row(*self._job_cells(job), key=str(job.id))
        target = keep if keep is not None else self.job_id
        if target is not None:
            index = next((i for i, job in enumerate(self.jobs) if job.id == target), None)
            if index is not None:
                table.move_cursor(row=index)
        if not self.jobs:
            self._say("No synchronization jobs yet." if not self.bc_id else "No jobs or errors for this record yet.")
        else:
            self._describe_highlighted()
        if self.open_job_id is not None:
            await self.show_errors(self.open_job_id)
        self.refresh_bindings()

    async def _read_jobs(self) -> list[JobRecord]:
        # The log lives in the coupling database, which only an open session reads (on its thread).
        session = store_session(self.app)
        if session is None:
            raise SyncError("the coupling database is not open yet")
        if not self.bc_id:
            return await logged_jobs.recent_jobs(session, JOB_LIMIT)
        return await logged_jobs.record_jobs(session, self.bc_id, list(session.mappings), JOB_LIMIT)

    @staticmethod
    def _job_cells(job: JobRecord) -> tuple[Text, ...]:
        status = literal(str(job.status))
        if job.status is JobStatus.CANCELLED:
            status.stylize("italic")
        elif job.status in (JobStatus.CRASHED, JobStatus.INTERRUPTED):
            status.stylize("bold")
        counters = [
            literal(f"{getattr(job, name):,}" if getattr(job, name) else "·", justify="right") for name in COUNTERS
        ]
        return (
            literal(local_time(job.started_at)),
            literal(duration_text(job.duration), justify="right"),
            literal(job_type_text(job.type)),
            literal(job.mapping or ""),
            literal(short_direction(job.direction)),
            status,
            *counters,
        )

    async def show_errors(self, job_id: int) -> None:
        """Show the errors of ``job_id`` in the second table (only this record's with ``bc_id``)."""
        self.open_job_id = job_id
        self.refresh_bindings()
        try:
            session = store_session(self.app)
            if session is None:
                raise SyncError("the coupling database is not open yet")
            errors = await logged_jobs.job_errors(session, job_id)
        except Exception as failure:  # noqa: BLE001 - say it, keep the screen
            errors = []
            self._say(f"The errors of job {job_id} could not be read: {failure}")
        if self.bc_id:
            errors = [e for e in errors if (e.bc_id or "") == self.bc_id]
        self.errors = errors
        table = self.query_one("#log-errors", DataTable)
        table.clear()
        for error in errors:
            table.add_row(
                literal(local_time(error.created_at, seconds=True)),
                literal(error.source_description),
                literal(error.destination_description),
                literal(sentence(error.message)),  # an auto-width column: the table does not cut it
                key=str(error.id),
            )
        count = len(errors)
        heading = f"Errors of job {job_id}: {count}" if count else f"Job {job_id} logged no errors."
        self.query_one("#log-errors-title", Static).update(heading)
        self.remove_class("-no-errors-table")
        if errors:
            table.focus()
            self._describe_error(0)
        else:
            self.query_one("#log-jobs", DataTable).focus()
            job = next((j for j in self.jobs if j.id == job_id), None)
            self._say(job_line(job) if job else f"Job {job_id} is not in the log any more.")

    def hide_errors(self) -> None:
        """Back to the job list alone."""
        self.open_job_id = None
        self.errors = []
        self.add_class("-no-errors-table")
        self.query_one("#log-jobs", DataTable).focus()
        self._describe_highlighted()
        self.refresh_bindings()

    # --- what the line under the tables says --------------------------------------------------

    def _say(self, text: str) -> None:
        self.query_one("#log-message", Static).update(text)

    def _highlighted_job_id(self) -> int | None:
        table = self.query_one("#log-jobs", DataTable)
        if not self.jobs or not (0 <= table.cursor_row < len(self.jobs)):
            return None
        return self.jobs[table.cursor_row].id

    def _describe_highlighted(self) -> None:
        table = self.query_one("#log-jobs", DataTable)
        if self.jobs and 0 <= table.cursor_row < len(self.jobs):
            self._say(job_line(self.jobs[table.cursor_row]))

    def _describe_error(self, index: int) -> None:
        if 0 <= index < len(self.errors):
            error = self.errors[index]
            text = error.message + (f" ({error.detail})" if error.detail else "")
            self._say(text)

    @on(DataTable.RowHighlighted, "#log-jobs")
    def _job_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if self.open_job_id is None:
            self._describe_highlighted()

    @on(DataTable.RowHighlighted, "#log-errors")
    def _error_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._describe_error(event.cursor_row)

    @on(DataTable.RowSelected, "#log-jobs")
    async def _job_selected(self, event: DataTable.RowSelected) -> None:
        # enter (or a click on the highlighted row) in the job table opens the job.
        event.stop()
        await self.action_open_job()

    @on(DataTable.RowSelected, "#log-errors")
    def _error_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo_job":
            return bool(self.jobs)
        if action == "open_job":
            # Only from the job list: in the errors table enter has nothing to open.
            return self.open_job_id is None or self.query_one("#log-jobs", DataTable).has_focus
        return True

    async def action_open_job(self) -> None:
        """Show the errors of the highlighted job."""
        job_id = self._highlighted_job_id()
        if job_id is not None:
            await self.show_errors(job_id)

    def _chosen_job_id(self) -> int | None:
        """The job undo would take back: the open one, else the highlighted one."""
        return self.open_job_id if self.open_job_id is not None else self._highlighted_job_id()

    def action_undo_job(self) -> None:
        """Undo the highlighted (or open) job: asked, then run by the app (docs/undo-and-history.md)."""
        job_id = self._chosen_job_id()
        if job_id is not None:
            self.post_message(self.UndoRequested(self, job_id))

    def action_export(self) -> None:
        """Export the jobs listed, or the errors of the open job, to CSV."""
        self._export()

    @work(group="export")
    async def _export(self) -> None:
        from bc_tui.sync.export import JOB_ERROR_HEADER, LOG_HEADER, job_error_rows, log_rows

        job_id = self.open_job_id
        if job_id is None:
            rows = list(log_rows(self.jobs))
            said = await export_rows(
                self.app, "the synchronization log", "synchronization-log", LOG_HEADER, rows, "job"
            )
        else:
            title, what = f"the errors of job {job_id}", f"job-{job_id}-errors"
            rows = list(job_error_rows(self.errors))
            said = await export_rows(self.app, title, what, JOB_ERROR_HEADER, rows, "error")
        if said:
            self._say(said)

    async def action_refresh(self) -> None:
        """Read the log again."""
        await self.load()

    def action_back(self) -> None:
        """Close the errors table, or leave the log."""
        if self.open_job_id is not None and self.job_id is None:
            self.hide_errors()
        else:
            self.dismiss(None)
