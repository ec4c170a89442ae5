"""The main screen: a tab per table, each a `RecordList`, and a status line (marks, messages)."""

from __future__ import annotations

from typing import ClassVar, Mapping

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from bc_tui.tui.sources import PageSource
from bc_tui.tui.widgets.record_list import RecordList
from bc_tui.tui.widgets.status_line import StatusLine


class MainScreen(Screen[None]):
    """Tabs of record lists (Customers, Contacts, Dataverse accounts, Dataverse contacts …)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "next_tab", "Next tab", id="main.next_tab"),
        Binding("left_square_bracket", "previous_tab", "Previous tab", id="main.previous_tab"),
    ]

    def __init__(self, sources: Mapping[str, PageSource], titles: Mapping[str, str]) -> None:
        """Tabs in the order of ``sources`` (tab id → source), titled from ``titles``."""
        super().__init__(id="main")
        self._sources = dict(sources)
        self._titles = dict(titles)

    def compose(self) -> ComposeResult:
        yield Header(icon="⇄")
        with TabbedContent(id="tables"):
            for tab_id, source in self._sources.items():
                title = self._titles.get(tab_id, tab_id.replace("-", " ").capitalize())
                with TabPane(title, id=tab_id):
                    yield RecordList(source, id=f"{tab_id}-list")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        if self.active_list is not None:
            self.active_list.focus()

    @property
    def tab_ids(self) -> list[str]:
        """The tab ids, in order."""
        return list(self._sources)

    @property
    def active_list(self) -> RecordList | None:
        """The record list of the tab the user is looking at."""
        active = self.query_one(TabbedContent).active
        return self.record_list(active) if active else None

    def record_list(self, tab_id: str) -> RecordList | None:
        """The record list of tab ``tab_id`` (None if there is no such tab)."""
        try:
            return self.query_one(f"#{tab_id}-list", RecordList)
        except NoMatches:
            return None

    @property
    def status(self) -> StatusLine:
        """The status line."""
        return self.query_one(StatusLine)

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
            self.status.marked_count = record_list.marked_count

    @on(RecordList.MarksChanged)
    def _marks_changed(self, event: RecordList.MarksChanged) -> None:
        if event.record_list is self.active_list:
            self.status.marked_count = event.count
