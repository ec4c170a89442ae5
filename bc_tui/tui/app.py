"""The bc-tui terminal app: the shell around the record lists (no sync calls yet).

CONTRACT: ``BcTuiApp(sources, connection_label=..., keymap=..., tab_titles=...)``; the caller
(the CLI) builds the page sources and passes the config's ``[keys]`` table as ``keymap``.
"""

from __future__ import annotations

from typing import ClassVar, Mapping

from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from bc_tui.tui.bindings import binding_entries
from bc_tui.tui.commands import ActionsProvider
from bc_tui.tui.paths import style_path
from bc_tui.tui.screens.help import HelpScreen
from bc_tui.tui.screens.main import MainScreen
from bc_tui.tui.sources import PageSource

DEFAULT_TAB_TITLES: Mapping[str, str] = {
    "customers": "Customers",
    "contacts": "Contacts",
    "dataverse-accounts": "Dataverse accounts",
    "dataverse-contacts": "Dataverse contacts",
}
"""Titles of the standard tabs, by tab id."""

DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"


class BcTuiApp(App[None]):
    """The terminal app: tabs of record lists, help, command palette, themes, remappable keys."""

    TITLE = "bc-tui"
    CSS_PATH = [style_path("app.tcss")]
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True,
                id="app.command_palette"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("t", "toggle_theme", "Light/dark", id="app.toggle_theme"),
    ]

    connection_label: reactive[str] = reactive("")
    """Where the data comes from, shown in the header, e.g.
    "Sandbox (demo data) · BC production / CRONUS · Dataverse 127.0.0.1:8123 · connected"."""

    def __init__(
        self,
        sources: Mapping[str, PageSource],
        *,
        connection_label: str = "",
        keymap: Mapping[str, str] | None = None,
        tab_titles: Mapping[str, str] | None = None,
        theme: str = DARK_THEME,
    ) -> None:
        """``sources``: tab id → page source, in tab order (ids such as ``customers``,
        ``contacts``, ``dataverse-accounts``, ``dataverse-contacts``); ``keymap``: binding id →
        keys (the config's ``[keys]`` table); ``tab_titles`` overrides `DEFAULT_TAB_TITLES`."""
        super().__init__()
        self._sources = dict(sources)
        self._tab_titles = {**DEFAULT_TAB_TITLES, **(tab_titles or {})}
        self._initial_keymap = dict(keymap or {})
        self.theme = theme
        self.connection_label = connection_label

    def get_default_screen(self) -> Screen:
        return MainScreen(self._sources, self._tab_titles)

    def on_mount(self) -> None:
        if self._initial_keymap:
            self.set_keymap(self._initial_keymap)

    def watch_connection_label(self, label: str) -> None:
        self.sub_title = label

    @property
    def main_screen(self) -> MainScreen:
        """The main screen (the default screen at the bottom of the stack)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def show_message(self, message: str) -> None:
        """Put ``message`` in the status line (results, hints, one-sentence errors)."""
        self.main_screen.status.message = message

    def action_help(self) -> None:
        """Show every key of the current screen and what it does."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(binding_entries(self.screen)))

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME
