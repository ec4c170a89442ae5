"""The main screen: a tab per table, each a `RecordList`, the actions on its records, the filter
line, the connection banner and the status line (marks, messages).

Actions apply to the marked records of the list in view, or to the cursor row when none are
marked. Each runs its flow (``bc_tui.tui.flows``) in a worker, then the
lists are fetched again and the marks of the records the flow finished with are cleared. The
coupling and synchronization actions are disabled (greyed in the footer) while the connection
does not work; the banner says why and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Header, Input, Static, TabbedContent, TabPane

from bc_tui.domain.sync_state import OUTSIDE_FILTER, state_help
from bc_tui.domain.words import not_connected
from bc_tui.tui.backend import ConnectionState, not_connected_text, store_session
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.dialogs.export import export_list_flow
from bc_tui.tui.dialogs.full_values import FullValuesDialog
from bc_tui.tui.record_sources import RecordSource, outside_filter_note
from bc_tui.tui.screens.card import CardScreen
from bc_tui.tui.screens.errors import ErrorsScreen
from bc_tui.tui.screens.log import LogScreen
from bc_tui.tui.screens.main_actions import coupled_bc_ids_of, perform
from bc_tui.tui.screens.selection import check_list_marks, gone_text
from bc_tui.tui.shown import Literal, label
from bc_tui.tui.sources import PageSource
from bc_tui.tui.widgets.footer import Footer
from bc_tui.tui.widgets.record_list import RecordList
from bc_tui.tui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    pass

#: Actions that write to the services or the coupling store: unavailable without a connection.
CONNECTED_ACTIONS = frozenset(
    {
        "couple",
        "synchronize",
        "delete_coupling",
        "match",
        "create",
        "sync_modified",
        "sync_modified_all",
        "fix_broken",
        "check_couplings",
    }
)
#: Actions that read the coupling store (log, errors: they work offline) or need a record source (filters, sort).
SESSION_ACTIONS = frozenset({"log", "errors"})
QUERY_ACTIONS = frozenset({"filter", "coupled_filter", "sort"})


class MainScreen(Screen[None]):
    """Tabs of record lists (Customers, Contacts, Dataverse accounts, Dataverse contacts …)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("main")  # the keys: tui/actions.py

    def __init__(self, sources: Mapping[str, PageSource], titles: Mapping[str, str]) -> None:
        """Tabs in the order of ``sources`` (tab id → source), titled from ``titles``."""
        super().__init__(id="main")
        self._sources = dict(sources)
        self._titles = dict(titles)
        self._busy: str | None = None  # the description of the action running, if any
        self._explained_at = 0  # the cursor row the status line last explained (or passed)

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        yield Literal("", id="connection-banner")
        with TabbedContent(id="tables"):
            for tab_id, source in self._sources.items():
                title = self._titles.get(tab_id, tab_id.replace("-", " ").capitalize())
                with TabPane(label(title), id=tab_id):  # a title may come from config
                    yield RecordList(source, id=f"{tab_id}-list")
        yield Input(
            placeholder="Filter: name or number starts with, or e-mail contains … (enter applies, escape clears)",
            id="filter-input",
        )
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        state = getattr(self.app, "connection_state", None)
        if state is not None and state.problem:  # the connection may fail before we mount
            self.show_connection(state)
        if self.active_list is not None:
            self.active_list.focus()

    # ------------------------------------------------------------------ lists

    @property
    def tab_ids(self) -> list[str]:
        """The tab ids, in order."""
        return list(self._sources)

    @property
    def active_tab(self) -> str | None:
        """The id of the tab in view."""
        return self.query_one(TabbedContent).active or None

    @property
    def active_list(self) -> RecordList | None:
        """The record list of the tab the user is looking at."""
        active = self.active_tab
        return self.record_list(active) if active else None

    def record_list(self, tab_id: str) -> RecordList | None:
        """The record list of tab ``tab_id`` (None if there is no such tab)."""
        try:
            return self.query_one(f"#{tab_id}-list", RecordList)
        except NoMatches:
            return None

    def record_lists(self) -> list[RecordList]:
        """Every record list, in tab order."""
        return list(self.query(RecordList))

    @property
    def status(self) -> StatusLine:
        """The status line."""
        return self.query_one(StatusLine)

    def refresh_lists(self) -> None:
        """Fetch every list again (marks and cursor positions are kept, those of records that
        are gone are dropped)."""
        for record_list in self.record_lists():
            record_list.refresh_data()
            self._check_marks(record_list)

    def refresh_visible_rows(self) -> None:
        """Read the rows in view of the list in view again (a job is writing them)."""
        if self.active_list is not None:
            self.active_list.refresh_visible()

    def _check_marks(self, record_list: RecordList) -> None:
        source = self._record_source(record_list)
        if source is not None and record_list.marked_count and not record_list.selection.all:
            self._run_mark_check(record_list, source)

    @work(group="mark-checks")
    async def _run_mark_check(self, record_list: RecordList, source: RecordSource) -> None:
        """Read the marked records back (batched): drop the marks of records that are gone, and
        count those the filter hides (docs/coupling-and-sync.md "Marks")."""
        try:
            check = await check_list_marks(self.app, record_list, source)
        except Exception as error:  # noqa: BLE001 - a failed check is a message, not a crash
            self.status.message = f"The marks could not be checked: {getattr(error, 'message', None) or error}"
            return
        if check is not None and check.gone:
            self.status.message = gone_text(len(check.gone))

    def _record_source(self, record_list: RecordList | None = None) -> RecordSource | None:
        """The active (or given) list's source when it is one of bc-tui's record sources."""
        record_list = record_list or self.active_list
        source = record_list.source if record_list is not None else None
        return source if isinstance(source, RecordSource) else None

    # ------------------------------------------------------------------ connection

    def show_connection(self, state: ConnectionState) -> None:
        """Show the connection's outcome: the banner with the problem, or the lists' data."""
        banner = self.query_one("#connection-banner", Static)
        if state.problem:
            banner.update(f"⚠ {not_connected(state.problem)} Restart bc-tui after fixing it.")
            banner.display = True
        else:
            banner.display = False
        self.refresh_lists()
        self.refresh_bindings()

    @property
    def _connected(self) -> bool:
        return bool(getattr(self.app, "connected", False))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out (None) what cannot run now: no connection, no record source, an action busy."""
        if action in CONNECTED_ACTIONS:
            if not self._connected or self._record_source() is None or self._busy:
                return None
        elif action in SESSION_ACTIONS:
            if store_session(self.app) is None:
                return None
        elif action in QUERY_ACTIONS and self._record_source() is None:
            return None
        elif action == "export" and (not self._connected or self._record_source() is None):
            return None  # the export reads the list from the services
        return True

    # ------------------------------------------------------------------ tabs

    def _switch_tab(self, step: int) -> None:
        tabs = self.tab_ids
        if not tabs:
            return
        tabbed = self.query_one(TabbedContent)
        current = tabs.index(tabbed.active) if tabbed.active in tabs else 0
        tabbed.active = tabs[(current + step) % len(tabs)]

    def action_next_tab(self) -> None:
        """Show the next table."""
        self._switch_tab(1)

    def action_previous_tab(self) -> None:
        """Show the previous table."""
        self._switch_tab(-1)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        record_list = self.record_list(event.pane.id or "")
        if record_list is not None:
            record_list.focus()
            self._show_marks(record_list)
            self._show_position(record_list)
        self.refresh_bindings()

    @on(RecordList.MarksChanged)
    def _marks_changed(self, event: RecordList.MarksChanged) -> None:
        if event.record_list is self.active_list:
            self._show_marks(event.record_list)

    def _show_marks(self, record_list: RecordList) -> None:
        self.status.marked_count = record_list.marked_count
        self.status.hidden_count = record_list.hidden_count

    @on(RecordList.Highlighted)
    def _highlighted(self, event: RecordList.Highlighted) -> None:
        if event.record_list is self.active_list:
            self._show_position(event.record_list)
            moved, self._explained_at = event.index != self._explained_at, event.index
            if moved:  # not when a page arrives: that would hide the message of a filter or sort
                self._explain_row(event.record_list)

    def _explain_row(self, record_list: RecordList) -> None:
        """When the cursor moves onto a row outside the table filter, the status line says what
        that means."""
        row = record_list.row_at(record_list.cursor_row)
        source = self._record_source(record_list)
        if row is not None and source is not None and row.cells.get("state") == OUTSIDE_FILTER:
            self.status.message = outside_filter_note(source.mapping_name)

    def action_full_values(self) -> None:
        """Show every value of the cursor row in full (the list cuts them to their column)."""
        record_list = self.active_list
        row = record_list.row_at(record_list.cursor_row) if record_list is not None else None
        if record_list is None or row is None:
            self.app.bell()
            return
        source = self._record_source(record_list)
        outside = source is not None and row.cells.get("state") == OUTSIDE_FILTER
        note = outside_filter_note(source.mapping_name) if source is not None and outside else ""
        self.app.push_screen(FullValuesDialog.of_row(record_list.source.columns, row, note))

    def _show_position(self, record_list: RecordList) -> None:
        known = record_list.count_known  # else the list shows a page of placeholders past the end
        rows = record_list.row_count - (0 if known else record_list.page_size)
        self.status.show_position(record_list.cursor_row, rows, known=known)

    @on(RecordList.Highlighted)
    def _explain_state(self, event: RecordList.Highlighted) -> None:
        """The list's tooltip says what the cursor row's sync state means (the help screen's legend)."""
        row = event.record_list.row_at(event.index)
        words = str(row.cells.get("state") or "") if row is not None else ""
        event.record_list.tooltip = state_help(words) if words else None

    @on(RecordList.LoadFailed)
    def _load_failed(self, event: RecordList.LoadFailed) -> None:
        self.status.message = event.message

    # ------------------------------------------------------------------ filter, sort, refresh

    def action_filter(self) -> None:
        """Show the filter line (server-side: name or number starts with, e-mail contains)."""
        source = self._record_source()
        if source is None:
            return
        line = self.query_one("#filter-input", Input)
        line.value = source.query.text
        line.display = True
        line.focus()

    @on(Input.Submitted, "#filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._apply_query(text=event.value.strip())
        self._close_filter()

    def _close_filter(self) -> None:
        self.query_one("#filter-input").display = False
        if self.active_list is not None:
            self.active_list.focus()

    def on_key(self, event: Any) -> None:
        """Escape in the filter line clears the filter and closes the line."""
        line = self.query_one("#filter-input", Input)
        if event.key == "escape" and line.has_focus:
            event.stop()
            event.prevent_default()
            line.value = ""
            self._apply_query(text="")
            self._close_filter()

    def action_coupled_filter(self) -> None:
        """Cycle the coupled filter: all → coupled → not coupled."""
        source = self._record_source()
        if source is not None:
            self._apply_query(coupled=source.query.coupled.next())

    def action_sort(self) -> None:
        """Sort by the next column (No. / Name / City)."""
        source = self._record_source()
        if source is not None:
            self._apply_query(sort=source.query.next_sort(source.sort_titles).sort)

    def _apply_query(self, **changes: Any) -> None:
        record_list = self.active_list
        source = self._record_source(record_list)
        if record_list is None or source is None:
            return
        if all(getattr(source.query, k) == v for k, v in changes.items()):
            return
        new = source.with_query(**changes)
        record_list.set_source(new)
        self._check_marks(record_list)
        described = new.query.describe()
        # The sort column "No." already ends the sentence with its own period.
        self.status.message = f"Showing {described}" + ("" if described.endswith(".") else ".")
        self.refresh_bindings()

    def action_refresh(self) -> None:
        """Read the lists again from both services."""
        self.refresh_lists()
        self.status.message = "Refreshed."

    # ------------------------------------------------------------------ record actions

    def action_couple(self) -> None:
        """Set up the coupling of the cursor record (or of each marked record, one by one)."""
        self._start("couple", "Setting up coupling")

    def action_synchronize(self) -> None:
        """Synchronize the marked (or cursor) records with their coupled records."""
        self._start("synchronize", "Synchronizing")

    def action_delete_coupling(self) -> None:
        """Delete the couplings of the marked (or cursor) records."""
        self._start("delete_coupling", "Deleting couplings")

    def action_create(self) -> None:
        """Create the counterpart of the marked (or cursor) records on the other side."""
        self._start("create", "Creating counterparts")

    def action_match(self) -> None:
        """Couple the table's records by matching field values (match-based coupling)."""
        self._start("match", "Match-based coupling")

    def action_sync_modified(self) -> None:
        """Synchronize the records of this list's table mapping modified since the last run."""
        self._start("sync_modified", "Synchronizing modified records")

    def action_sync_modified_all(self) -> None:
        """Synchronize the records of every table mapping modified since the last run."""
        self._start("sync_modified_all", "Synchronizing modified records")

    def action_fix_broken(self) -> None:
        """Offer the fixes of the cursor record's broken coupling (or of each marked one's)."""
        self._start("fix_broken", "Fixing broken couplings")

    def action_check_couplings(self) -> None:
        """Check that both records of every coupling of this table mapping still exist."""
        self._start("check_couplings", "Checking couplings")

    def action_log(self) -> None:
        """Open the synchronization log (jobs and their errors)."""
        self.app.push_screen(LogScreen())

    @work(group="errors")
    async def action_errors(self) -> None:
        """Open the coupled records that were skipped, are conflicts, failed or are broken (the
        couplings of the records in view are checked too, so a broken one is listed at once)."""
        record_list = self.active_list
        source = self._record_source(record_list)
        visible: dict[str, list[str]] = {}
        if source is not None and record_list is not None:
            keys = record_list.visible_keys()
            if source.side == "dataverse":
                keys = list((await self._coupled_bc_ids(source.mapping_name, keys)).values())
            visible[source.mapping_name] = keys
        self.app.push_screen(ErrorsScreen(source.mapping_name if source else None, visible))

    def action_export(self) -> None:
        """Export the list's rows as filtered (the marked ones when there are marks) to CSV."""
        record_list = self.active_list
        source = self._record_source(record_list)
        if record_list is not None and source is not None and self.active_tab:
            self._export(record_list, source, self.active_tab)

    @work(group="export")
    async def _export(self, record_list: RecordList, source: RecordSource, tab_id: str) -> None:
        title = self._titles.get(tab_id, tab_id.replace("-", " ").capitalize())
        marked, count, wanted = None, None, None
        if record_list.marked_count:
            marked = record_list.selection
            count = record_list.marked_count
            wanted = None if marked.all else count  # explicit marks: reading stops at the last
        path = await export_list_flow(
            self.app, title, tab_id, source.records, marked=marked, marked_count=count, wanted=wanted
        )
        if path is not None:
            self.status.message = f"Exported to {path}."

    @on(RecordList.Opened)
    def _opened(self, event: RecordList.Opened) -> None:
        source = self._record_source(event.record_list)
        if source is None:
            return
        event.stop()
        if not self._connected:
            # The card reads both services, so it needs the connection as coupling does.
            self.status.message = not_connected_text(self.app)
            return
        self._open_card(source, event.key)

    @work(group="card")
    async def _open_card(self, source: RecordSource, key: str) -> None:

        bc_id = key
        if source.side == "dataverse":
            coupled_id = (await self._coupled_bc_ids(source.mapping_name, [key])).get(key)
            if coupled_id is None:
                self.status.message = "This Dataverse record is not coupled; press n to create it in Business Central."
                return
            bc_id = coupled_id
        await self.app.push_screen_wait(CardScreen(source.mapping_name, bc_id))
        self.refresh_lists()  # the card may have coupled, synchronized or uncoupled it

    def _start(self, action: str, title: str) -> None:
        record_list = self.active_list
        source = self._record_source(record_list)
        if record_list is None or source is None or not self._connected:
            return
        if self._busy:
            self.status.message = f"{self._busy} is still running; wait for it to finish."
            return
        self._busy = title
        self.refresh_bindings()
        self._run_action(action, title, record_list, source)

    @work(group="actions")
    async def _run_action(self, action: str, title: str, record_list: RecordList, source: RecordSource) -> None:
        """Run one action's flow and then bring the lists up to date."""
        done: list[str] = []
        try:
            done = await self._perform(action, record_list, source)
        except Exception as error:  # noqa: BLE001 - flows promise not to raise; a bug is a message
            self.status.message = f"{title} stopped: {getattr(error, 'message', None) or error}"
        finally:
            self._busy = None
            self.refresh_bindings()
        if done:
            record_list.unmark_keys(done)
        self.refresh_lists()

    async def _perform(self, action: str, record_list: RecordList, source: RecordSource) -> list[str]:
        """Do ``action`` on the selection; returns the keys the action finished with."""
        return await perform(self.app, action, record_list, source, self._say)

    def _say(self, message: str) -> None:
        """Put ``message`` on the status line."""
        self.status.message = message

    async def _coupled_bc_ids(self, mapping: str, dataverse_ids: Iterable[str]) -> dict[str, str]:
        """Dataverse id → the coupled BC SystemId (see `main_actions.coupled_bc_ids_of`)."""
        return await coupled_bc_ids_of(self.app, mapping, dataverse_ids)
