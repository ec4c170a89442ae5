"""Coupled Data Synchronization Errors (docs/coupling-and-sync.md "Deleted records and broken couplings",
"The synchronization log and its errors", "A conflict's state"): skipped, conflicting, failed and broken couplings,
each once, and what to do about them — retry, retry all, synchronize with a chosen side (which settles
a conflict), restore the deleted record, delete the surviving record, delete the coupling, and
check couplings (docs/coupling-and-sync.md "Checking couplings without a synchronization"): each
read of the list first looks up both records of the listed couplings and of the records in view,
so a broken coupling is listed without any synchronization. Offline the list is read from the
coupling store alone (docs/keys-and-words.md "Offline").

Every action goes through `bc_tui.sync.resolve` (or `sync.uncouple`); long ones run under the
job dialog. The list is read again after each action. Failures are one sentence in the status
line, never a crash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.recommend import Recommendation
from bc_tui.domain.text import shorten
from bc_tui.domain.words import direction_words
from bc_tui.sync.check import check_couplings, checked_message
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.logged_jobs import combine_summaries
from bc_tui.sync.progress import JobSummary, ProgressCallback
from bc_tui.sync.resolve import (
    ProblemKind,
    ProblemRow,
    delete_survivor,
    kind_count,
    remove_broken_couplings,
    restore_deleted,
    retry_now,
    synchronize_couplings,
)
from bc_tui.sync.uncouple import delete_couplings
from bc_tui.tui.backend import connected_session, not_connected_text, store_session
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.dialogs.confirm import delete_survivor_dialog
from bc_tui.tui.dialogs.direction import DirectionDialog
from bc_tui.tui.dialogs.job import summary_text
from bc_tui.tui.export_path import export_rows
from bc_tui.tui.jobs import run_job
from bc_tui.tui.paths import style_path
from bc_tui.tui.screens.log import local_time
from bc_tui.tui.shown import Literal, literal
from bc_tui.tui.widgets.footer import Footer
from bc_tui.tui.widgets.list_text import MARK_GLYPH

if TYPE_CHECKING:
    from bc_tui.sync.session import SyncSession

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE
MARK = MARK_GLYPH  # the lists' mark, not the coupled mark "●"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _on_chosen(
    action: Callable[[ErrorsScreen, SyncSession, list[ProblemRow]], Awaitable[None]],
) -> Callable[[ErrorsScreen], Awaitable[None]]:
    """An action on the chosen couplings: it runs with the session and the chosen rows, and only
    when there are both; otherwise the screen says why nothing was done."""

    async def on_chosen(screen: ErrorsScreen) -> None:
        needed = screen._need()
        if needed is not None:
            await action(screen, *needed)

    on_chosen.__doc__ = action.__doc__
    return on_chosen


class ErrorsScreen(Screen[None]):
    """The couplings that need attention, of one table mapping or of all."""

    CSS_PATH = [style_path("jobs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("errors")  # the keys: tui/actions.py

    def __init__(self, mapping_name: str | None = None, visible: Mapping[str, Sequence[str]] | None = None) -> None:
        """``mapping_name``: only that table mapping's couplings (None: all); ``visible``: the BC
        SystemIds of the records the list showed, per table mapping (their couplings are checked too)."""
        super().__init__()
        self.mapping_name = mapping_name
        self.visible_records = dict(visible or {})
        self.rows: list[ProblemRow] = []
        self.marked: set[int] = set()
        """The marked coupling ids (marks survive a refresh while the coupling is listed)."""
        self.loaded = False
        """True once the list was read at least once (tests wait for it)."""

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        title = "Coupled data synchronization errors"
        yield Literal(f"{title} · {self.mapping_name}" if self.mapping_name else title, id="errors-title")
        yield DataTable(id="errors-table", cursor_type="row", zebra_stripes=True)
        yield Literal("", id="errors-detail")
        yield Literal("Reading the couplings that need attention…", id="errors-message")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#errors-table", DataTable)
        table.add_column(" ", key="mark", width=1)
        table.add_column("Table", key="table")
        table.add_column("Problem", key="kind")
        table.add_column("Description", key="description", width=24)
        table.add_column("Coupled to", key="coupled_to", width=22)
        table.add_column("Error", key="error", width=22)
        table.add_column("Failed on", key="failed_on")
        table.focus()
        self.refresh_rows()

    # --- data ------------------------------------------------------------------------------

    @property
    def session(self) -> SyncSession | None:
        return connected_session(self.app)

    def _not_connected(self) -> str:
        """The one "not connected" sentence, with the connection's problem when there is one."""
        return not_connected_text(self.app)

    @work(exclusive=True, group="errors-load")
    async def refresh_rows(self, message: str | None = None) -> None:
        """Read the couplings that need attention again (``message``: what was just done).

        Connected, both records of each listed coupling and of the visible records' couplings are
        looked up first (batched), so a broken coupling is listed without any synchronization;
        offline, the coupling store alone is read and the screen says the records were not checked.
        """
        from bc_tui.sync.resolve import errors_overview

        session = self.session
        store = session or store_session(self.app)
        if store is None:
            self._say(self._not_connected())
            self.loaded = True
            return
        try:
            if session is not None:
                rows = await errors_overview(session, self.mapping_name, visible=self.visible_records)
            else:
                rows = await errors_overview(store, self.mapping_name, check_records=False)
        except Exception as error:  # noqa: BLE001 - one sentence, never a crash
            self._say(f"The couplings that need attention could not be read: {plain(error)}")
            self.loaded = True
            return
        self._show(rows)
        summary = self._count_text()
        if session is None:
            summary = f"{summary} {self._not_connected()} The records were not checked."
        self._say(f"{message} {summary}" if message else summary)
        self.loaded = True

    def _show(self, rows: list[ProblemRow]) -> None:
        table = self.query_one("#errors-table", DataTable)
        keep = self._cursor_row()
        self.rows = rows
        ids = {row.coupling_id for row in rows}
        self.marked &= ids
        table.clear()
        for row in rows:
            table.add_row(*self._cells(row), key=str(row.coupling_id))
        if keep is not None and keep.coupling_id in ids:
            table.move_cursor(row=next(i for i, r in enumerate(rows) if r.coupling_id == keep.coupling_id))
        self._describe()

    def _cells(self, row: ProblemRow) -> tuple[Text, ...]:
        description = row.description + (" (deleted)" if row.record_exists is False else "")
        coupled_to = row.coupled_to + (" (deleted)" if row.coupled_record_exists is False else "")
        kind = literal(str(row.kind))
        if row.kind is ProblemKind.BROKEN:
            kind.stylize("bold")
        return (
            literal(MARK if row.coupling_id in self.marked else " "),
            literal(row.mapping),
            kind,
            literal(description),
            literal(coupled_to),
            literal(row.error),
            literal(local_time(row.failed_on)),
        )

    def _count_text(self) -> str:
        if not self.rows:
            return "No couplings need attention."
        counts = {kind: sum(1 for r in self.rows if r.kind is kind) for kind in ProblemKind}
        parts = ", ".join(kind_count(kind, counts[kind]) for kind in ProblemKind)
        verb = "needs" if len(self.rows) == 1 else "need"
        return f"{_plural(len(self.rows), 'coupling')} {verb} attention: {parts}."

    def _say(self, text: str) -> None:
        self.query_one("#errors-message", Static).update(text)

    def _cursor_row(self) -> ProblemRow | None:
        table = self.query_one("#errors-table", DataTable)
        if self.rows and 0 <= table.cursor_row < len(self.rows):
            return self.rows[table.cursor_row]
        return None

    def _describe(self) -> None:
        row = self._cursor_row()
        detail = self.query_one("#errors-detail", Static)
        if row is None:
            detail.update("")
            return
        exists = {True: "exists", False: "was deleted", None: "not checked"}
        detail.update(
            f"{row.error}\nBusiness Central record {exists[row.record_exists]} · "
            f"Dataverse record {exists[row.coupled_record_exists]}"
        )

    @on(DataTable.RowHighlighted, "#errors-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._describe()

    @on(DataTable.RowSelected, "#errors-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # enter has no meaning here: the actions have their own keys

    @property
    def chosen(self) -> list[ProblemRow]:
        """The rows the actions apply to: the marked ones, or the cursor row when none are."""
        if self.marked:
            return [row for row in self.rows if row.coupling_id in self.marked]
        row = self._cursor_row()
        return [row] if row is not None else []

    # --- marks -----------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the coupling under the cursor, and move down."""
        row = self._cursor_row()
        if row is None:
            return
        self.marked ^= {row.coupling_id}
        table = self.query_one("#errors-table", DataTable)
        table.update_cell(str(row.coupling_id), "mark", Text(MARK if row.coupling_id in self.marked else " "))
        table.action_cursor_down()
        self._say(f"{len(self.marked)} marked.")

    def action_mark_all(self) -> None:
        """Mark every listed coupling (again: clear the marks)."""
        every = {row.coupling_id for row in self.rows}
        self.marked = set() if self.marked == every else every
        table = self.query_one("#errors-table", DataTable)
        for row in self.rows:
            table.update_cell(str(row.coupling_id), "mark", Text(MARK if row.coupling_id in self.marked else " "))
        self._say(f"{len(self.marked)} marked.")

    # --- actions ---------------------------------------------------------------------------

    def _need(self) -> tuple[SyncSession, list[ProblemRow]] | None:
        session, rows = self.session, self.chosen
        if session is None:
            self._say(self._not_connected())
            return None
        if not rows:
            self._say("There is nothing to act on: no coupling needs attention.")
            return None
        return session, rows

    @work(exclusive=True, group="errors-action")
    @_on_chosen
    async def action_retry(self, session: SyncSession, rows: list[ProblemRow]) -> None:
        """Retry: clear Skipped and synchronize the chosen couplings now, as the next
        synchronization of modified records would (the table mapping's direction and policy)."""
        ids = [row.coupling_id for row in rows if row.kind is not ProblemKind.BROKEN]
        if not ids:
            self._say(
                "A broken coupling is not retried: restore the deleted record (t), "
                "delete the survivor (D) or delete the coupling (d)."
            )
            return
        await self._retry(f"Retrying {_plural(len(ids), 'coupling')}", lambda p: retry_now(session, ids, progress=p))

    @work(exclusive=True, group="errors-action")
    async def action_retry_all(self) -> None:
        """Retry All: clear Skipped on every skipped coupling (of this table mapping) and
        synchronize them now."""
        session = self.session
        if session is None:
            self._say(self._not_connected())
            return
        if not any(row.kind is ProblemKind.SKIPPED for row in self.rows):
            self._say("No coupling is skipped, so there is nothing to retry; r retries the chosen ones.")
            return
        name = self.mapping_name
        await self._retry(
            "Retrying every skipped coupling", lambda p: retry_now(session, all=True, mapping_name=name, progress=p)
        )

    async def _retry(self, title: str, job: Callable[[ProgressCallback], Awaitable[list[JobSummary]]]) -> None:
        """Run a retry under the job dialog; the list is read again and shows the outcome."""

        async def run(progress: ProgressCallback) -> list[JobSummary]:
            summaries = await job(progress)
            if not summaries:
                raise SyncError("There was nothing to retry: no chosen coupling is skipped, failed or a conflict.")
            return summaries

        await self._run(title, run)

    @work(exclusive=True, group="errors-action")
    @_on_chosen
    async def action_synchronize(self, session: SyncSession, rows: list[ProblemRow]) -> None:
        """Synchronize the chosen couplings; the side the user picks wins."""
        direction = await self.app.push_screen_wait(_side_dialog(len(rows)))
        if direction is None:
            return
        ids = [row.coupling_id for row in rows]
        word = direction_words(direction).short
        await self._run(
            f"Synchronizing {_plural(len(ids), 'coupling')} ({word})",
            lambda progress: synchronize_couplings(session, ids, direction, progress=progress),
        )

    @work(exclusive=True, group="errors-action")
    @_on_chosen
    async def action_restore(self, session: SyncSession, rows: list[ProblemRow]) -> None:
        """Restore records: recreate the deleted side of each broken coupling from the survivor."""
        broken = [row.coupling_id for row in rows if row.kind is ProblemKind.BROKEN]
        if not broken:
            self._say("Only broken couplings can be restored: both records of the chosen couplings still exist.")
            return
        await self._run(
            f"Restoring {_plural(len(broken), 'deleted record')}",
            lambda progress: restore_deleted(session, broken, progress=progress),
        )

    @work(exclusive=True, group="errors-action")
    @_on_chosen
    async def action_delete_coupling(self, session: SyncSession, rows: list[ProblemRow]) -> None:
        """Delete couplings: delete the chosen couplings; neither record is touched."""
        broken = [row.coupling_id for row in rows if row.kind is ProblemKind.BROKEN]
        intact: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            if row.kind is not ProblemKind.BROKEN:
                intact[row.mapping].append(row.bc_id)
        removed = 0
        try:
            if broken:
                removed += await remove_broken_couplings(session, broken)
        except Exception as error:  # noqa: BLE001
            self.refresh_rows(plain(error))
            return

        def deleting(name: str, ids: list[str]) -> Callable[[ProgressCallback], Awaitable[JobSummary]]:
            # One table mapping's engine call, made by a function so that it binds name and ids typed.
            return lambda p: delete_couplings(session, name, ids, progress=p)

        if intact:
            summary = await self._run(
                f"Deleting {_plural(sum(map(len, intact.values())), 'coupling')}",
                lambda progress: _each_mapping(
                    [deleting(name, ids) for name, ids in intact.items()],
                    progress,
                ),
                refresh=False,
            )
            removed += summary.counters.get("uncoupled", 0) if summary else 0
        self.marked.clear()
        self.refresh_rows(f"{_plural(removed, 'coupling')} deleted; the records were not touched.")

    @work(exclusive=True, group="errors-action")
    @_on_chosen
    async def action_delete_record(self, session: SyncSession, rows: list[ProblemRow]) -> None:
        """Delete records: delete the surviving record of each broken coupling (asks first)."""
        broken = [row for row in rows if row.kind is ProblemKind.BROKEN]
        if not broken:
            self._say("Only the surviving record of a broken coupling can be deleted here; both records still exist.")
            return
        names = ", ".join(shorten(row.description if row.record_exists else row.coupled_to) for row in broken[:3])
        more = f" and {len(broken) - 3} more" if len(broken) > 3 else ""
        sure = await self.app.push_screen_wait(delete_survivor_dialog(f"{names}{more}", several=True))
        if not sure:
            self._say("Nothing was deleted.")
            return
        ids = [row.coupling_id for row in broken]
        await self._run(
            f"Deleting {_plural(len(ids), 'surviving record')}",
            lambda progress: delete_survivor(session, ids, progress=progress),
        )

    def action_export(self) -> None:
        """Export the listed couplings (the marked ones when there are marks) to CSV."""
        self._export()

    @work(group="export")
    async def _export(self) -> None:
        from bc_tui.sync.export import PROBLEM_HEADER, problem_rows

        rows = [row for row in self.rows if row.coupling_id in self.marked] if self.marked else self.rows
        title = "the marked couplings" if self.marked else "the couplings that need attention"
        said = await export_rows(self.app, title, "sync-errors", PROBLEM_HEADER, list(problem_rows(rows)), "coupling")
        if said:
            self._say(said)

    @work(exclusive=True, group="errors-action")
    async def action_check_couplings(self) -> None:
        """Check couplings: look up both records of every coupling of this table mapping (of
        every table mapping when the screen lists all), so that each broken one is listed."""
        session = self.session
        if session is None:
            self._say(self._not_connected())
            return
        names = [self.mapping_name] if self.mapping_name else list(session.mappings)

        def checking(name: str) -> Callable[[ProgressCallback], Awaitable[JobSummary]]:
            return lambda progress: check_couplings(session, name, progress=progress)

        summary = await run_job(
            self.app,
            "Checking couplings",
            lambda progress: _all_of(_each_mapping([checking(name) for name in names], progress)),
        )
        broken = summary.count("failed") if summary is not None else 0
        done = checked_message(summary.count("unchanged") + broken, broken) if summary else "Nothing was checked."
        self.refresh_rows(done)

    def action_refresh(self) -> None:
        """Read the list again (the records are looked up again too)."""
        self._say("Reading the couplings that need attention…")
        self.refresh_rows()

    def action_back(self) -> None:
        """Back to where the user came from."""
        self.dismiss(None)

    async def _run(
        self,
        title: str,
        job: Callable[[ProgressCallback], Awaitable[Sequence[JobSummary] | JobSummary]],
        *,
        refresh: bool = True,
    ) -> JobSummary | None:
        """Run ``job`` under the job dialog, then read the list again and say what happened."""

        async def one(progress: ProgressCallback) -> JobSummary:
            result = await job(progress)
            return result if isinstance(result, JobSummary) else combine_summaries(list(result))

        summary = await run_job(self.app, title, one)
        self.marked.clear()
        if refresh:
            said = f"{title}: {summary_text(summary)}." if summary is not None else f"{title}: not done."
            self.refresh_rows(said.replace("..", "."))
        return summary


async def _all_of(jobs: Awaitable[list[JobSummary]]) -> JobSummary:
    """One summary of jobs run one per table mapping."""
    return combine_summaries(await jobs)


async def _each_mapping(
    jobs: Sequence[Callable[[ProgressCallback], Awaitable[JobSummary]]], progress: ProgressCallback
) -> list[JobSummary]:
    """Run one engine call per table mapping, one after the other."""
    return [await job(progress) for job in jobs]


def _side_dialog(count: int) -> DirectionDialog:
    """Send or get, for the errors screen's Synchronize (the chosen side's data wins)."""
    what = "the chosen coupling" if count == 1 else f"the {count} chosen couplings"
    recommendation = Recommendation(
        recommended=SEND,
        offered=(SEND, GET),
        reasons=(),
        conflicts=(),
        warning="The side you pick wins: its data overwrites the other side, changed or not.",
        question=f"Whose data wins for {what}?",
    )
    return DirectionDialog(recommendation, title="Synchronize")
