"""The bc-tui terminal app: the shell around the record lists and the connection.

Interface: ``BcTuiApp(backend=None, *, sources=None, keymap=None, …)``. With a
``backend`` the app starts it in a worker at mount (the header says connecting… / connected /
the problem) and shows the four standard lists of its session; the TUI code reaches the session
as ``app.backend.session``. ``sources`` (tab id → page source) replaces the standard lists (the
list mechanics tests use made-up sources). ``keymap`` is the config's ``[keys]`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen

from bc_tui.domain.text import shorten
from bc_tui.tui.actions import current_keymap
from bc_tui.tui.backend import Backend, ConnectionState, connected_session
from bc_tui.tui.bindings import binding_entries, bindings_for, keymap_warnings
from bc_tui.tui.commands import ActionsProvider
from bc_tui.tui.dialogs.job import JobFinished, JobProgressed, JobScreen
from bc_tui.tui.flows import undo_flow
from bc_tui.tui.paths import style_path
from bc_tui.tui.record_sources import standard_sources
from bc_tui.tui.screens.help import HelpScreen
from bc_tui.tui.screens.log import LogScreen
from bc_tui.tui.screens.main import MainScreen
from bc_tui.tui.shown import MESSAGE_LIMIT, sentence
from bc_tui.tui.sources import PageSource
from bc_tui.tui.themes import DARK_THEME, LIGHT_THEME, readable

DEFAULT_TAB_TITLES: Mapping[str, str] = {
    "customers": "Customers",
    "contacts": "Contacts",
    "dataverse-accounts": "Dataverse accounts",
    "dataverse-contacts": "Dataverse contacts",
}
"""Titles of the standard tabs, by tab id."""

#: A config warning stays long enough to be read and copied into the config (not for ever: the
#: app works on, the setting is just ignored).
CONFIG_WARNING_TIMEOUT_S = 30.0
#: A device code is good for 15 minutes: the notification with it stays as long.
DEVICE_CODE_TIMEOUT_S = 900.0


class BcTuiApp(App[None]):
    """The terminal app: tabs of record lists, help, command palette, themes, remappable keys."""

    TITLE = "bc-tui"
    CSS_PATH = [style_path("app.tcss")]
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("app")  # the keys: tui/actions.py

    connection_label: reactive[str] = reactive("")
    """Where the data comes from and the connection's state, shown in the header, e.g.
    "Sandbox (demo data) · BC production / CRONUS · Dataverse 127.0.0.1:8123 · connected"."""

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        sources: Mapping[str, PageSource] | None = None,
        connection_label: str = "",
        keymap: Mapping[str, str] | None = None,
        config_warnings: Sequence[str] = (),
        config_path: Path | None = None,
        tab_titles: Mapping[str, str] | None = None,
        theme: str = DARK_THEME,
        close_backend: bool = False,
    ) -> None:
        """``backend``: the connection (started at mount); ``sources``: tab id → page source, in
        tab order, instead of the backend's standard lists (ids such as ``customers``,
        ``contacts``, ``dataverse-accounts``, ``dataverse-contacts``); ``keymap``: binding id →
        keys (the config's ``[keys]`` table); ``config_warnings``: the config file's warnings
        (``Settings.warnings``), shown as notifications with those about ``keymap``, which the
        app checks itself; ``config_path`` names the file in them; ``tab_titles`` overrides
        `DEFAULT_TAB_TITLES`; ``close_backend``: the app owns the backend and closes it when it exits (on its own event
        loop, where the session was opened)."""
        super().__init__()
        self.backend = backend
        self._close_backend = close_backend
        if sources is None:
            sources = self._standard_sources() if backend is not None else {}
        self._sources = dict(sources)
        self._tab_titles = {**DEFAULT_TAB_TITLES, **(tab_titles or {})}
        self._initial_keymap = dict(keymap or {})
        self._config_warnings = tuple(config_warnings)
        self._config_path = config_path
        self.theme = theme
        self.connection_label = connection_label or (backend.state.header if backend is not None else "")

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables, with the text colours bc-tui makes readable (tui/themes.py)."""
        return readable(self.theme, super().get_css_variables())

    def _standard_sources(self) -> dict[str, PageSource]:
        return dict(standard_sources(lambda: self.backend.session if self.backend else None))

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(self._sources, self._tab_titles)

    def on_mount(self) -> None:
        if self._initial_keymap:
            # Old per-screen ids (``main.synchronize``) still work: they name the shared action.
            self.set_keymap(current_keymap(self._initial_keymap))
        # The CLI prints these on stderr; here stderr is hidden behind the screen.
        warnings = [*self._config_warnings, *keymap_warnings(self._initial_keymap, self._config_path)]
        for warning in warnings:
            self.notify(warning, title="Config", severity="warning", timeout=CONFIG_WARNING_TIMEOUT_S)
        if self.backend is not None:
            self.backend.on_change = self._show_sign_in
            self._connect()

    def _show_sign_in(self, state: ConnectionState) -> None:
        """Device code sign-in: the page and the code in the header and a notification that stays."""
        self.connection_label = state.header
        if state.sign_in is not None:
            self.notify(state.sign_in, title="Sign in", timeout=DEVICE_CODE_TIMEOUT_S)

    async def on_unmount(self) -> None:
        if self._close_backend and self.backend is not None:
            await self.backend.close()

    @work(exclusive=True, group="connect")
    async def _connect(self) -> None:
        """Start the backend, then show the outcome and load the lists."""
        assert self.backend is not None
        state = await self.backend.start()
        self.connection_label = state.header
        self.main_screen.show_connection(state)
        self.refresh_bindings()
        for finding in state.schema_findings:
            self.notify(finding, title="Field mappings", severity="warning", timeout=CONFIG_WARNING_TIMEOUT_S)

    @property
    def connection_state(self) -> ConnectionState | None:
        """The backend's state (None for an app without a backend)."""
        return self.backend.state if self.backend is not None else None

    @property
    def connected(self) -> bool:
        """Whether coupling and synchronization can run (a backend with a working session)."""
        return connected_session(self) is not None

    def watch_connection_label(self, label: str) -> None:
        # The label holds config values and service names (the header shows them literally,
        # but control characters must not reach the terminal).
        self.sub_title = shorten(label, MESSAGE_LIMIT)

    @property
    def main_screen(self) -> MainScreen:
        """The main screen (the default screen at the bottom of the stack)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification; unlike Textual's default, its message is NOT markup unless asked for,
        because our messages embed record names (``Woodgrove [/old]`` would raise)."""
        if not markup:
            message = sentence(message)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def show_message(self, message: str) -> None:
        """Put ``message`` in the status line (results, hints, one-sentence errors)."""
        self.main_screen.status.message = message

    def refresh_lists(self) -> None:
        """Fetch every list again (after a coupling or a synchronization changed records)."""
        self.main_screen.refresh_lists()

    def action_help(self) -> None:
        """Show every key of the current screen and what it does."""
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(binding_entries(self.screen)))

    def on_log_screen_undo_requested(self, message: LogScreen.UndoRequested) -> None:
        """Undo a job asked for on the synchronization log; the log and the lists are read again."""
        self._undo(message.log, message.job_id)

    def on_job_progressed(self, message: JobProgressed) -> None:
        """A running job handled more records: the rows in view are read again, so that the list
        behind the job dialog shows records as they finish, not only when the job ends."""
        self.main_screen.refresh_visible_rows()

    def on_job_finished(self, message: JobFinished) -> None:
        """A job ended: the rows in view show its last records too (progress is told at most
        once a second, so the last records may not have been)."""
        self.main_screen.refresh_visible_rows()

    def on_job_screen_undo_requested(self, message: JobScreen.UndoRequested) -> None:
        """Undo the job whose summary was shown (``u`` on the job dialog); the lists are read again."""
        self._undo(None, message.job_id)

    @work(group="undo")
    async def _undo(self, log: LogScreen | None, job_id: int) -> None:
        if await undo_flow(self, job_id) is None:
            return
        self.refresh_lists()
        if log is not None and log.is_mounted:
            await log.load()

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        self.theme = LIGHT_THEME if self.theme == DARK_THEME else DARK_THEME
