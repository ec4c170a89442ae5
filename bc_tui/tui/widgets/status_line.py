"""The status line under the lists: the number of marked records and the latest message."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from bc_tui.tui.shown import Literal


class StatusLine(Horizontal):
    """One line: "N marked" on the left (always shown), a message on the right of it."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $foreground;
        & > #status-marks { width: auto; min-width: 12; padding: 0 1; text-style: bold; }
        & > #status-message { width: 1fr; padding: 0 1; color: $text-muted; }
    }
    """

    marked_count: reactive[int] = reactive(0)
    """Marks in the list the user is looking at."""

    message: reactive[str] = reactive("")
    """The latest message (a result, a hint, an error sentence)."""

    def compose(self) -> ComposeResult:
        yield Static(self._marks_text(), id="status-marks", markup=False)
        # Messages embed record names and service errors: shown literally, shortened.
        yield Literal("", id="status-message")

    def _marks_text(self) -> str:
        return f"{self.marked_count:,} marked"

    def watch_marked_count(self) -> None:
        if self.is_mounted:
            self.query_one("#status-marks", Static).update(self._marks_text())

    def watch_message(self, message: str) -> None:
        if self.is_mounted:
            self.query_one("#status-message", Static).update(message)

    def on_mount(self) -> None:
        self.watch_marked_count()
        self.watch_message(self.message)
