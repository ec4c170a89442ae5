"""The status line under the lists: the marked records (and how many of them the filter
hides), where the cursor is ("row 1,234 of 100,000") and the latest message."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from bc_tui.tui.shown import Literal


class StatusLine(Horizontal):
    """One line: "N marked[, H hidden by the filter]" on the left (always shown), the message,
    and the cursor's position on the right."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $foreground;
        & > #status-marks { width: auto; min-width: 12; padding: 0 1; text-style: bold; }
        & > #status-message { width: 1fr; padding: 0 1; color: $text-muted; }
        & > #status-position { width: auto; padding: 0 1; color: $foreground; }
    }
    """

    marked_count: reactive[int] = reactive(0)
    """Marks in the list the user is looking at."""

    hidden_count: reactive[int] = reactive(0)
    """Of the marks, those the list's filter hides (they still count for actions)."""

    position: reactive[str] = reactive("")
    """Where the cursor is, e.g. "row 1,234 of 100,000" ("" when the list is empty)."""

    message: reactive[str] = reactive("")
    """The latest message (a result, a hint, an error sentence)."""

    def compose(self) -> ComposeResult:
        yield Static(self._marks_text(), id="status-marks", markup=False)
        # Messages embed record names and service errors: shown literally, shortened.
        yield Literal("", id="status-message")
        yield Static(self.position, id="status-position", markup=False)

    def _marks_text(self) -> str:
        text = f"{self.marked_count:,} marked"
        if self.hidden_count:
            text += f", {self.hidden_count:,} hidden by the filter"
        return text

    def watch_marked_count(self) -> None:
        if self.is_mounted:
            self.query_one("#status-marks", Static).update(self._marks_text())

    def show_position(self, cursor: int, rows: int, *, known: bool = True) -> None:
        """Show "row 1,234 of 100,000" for the 0-based ``cursor`` in ``rows`` rows ("of 1,000+"
        while the end is not ``known``; nothing for an empty list)."""
        if not rows:
            self.position = ""
            return
        self.position = f"row {cursor + 1:,} of {rows:,}{'' if known else '+'}"

    def watch_hidden_count(self) -> None:
        self.watch_marked_count()

    def watch_position(self, position: str) -> None:
        if self.is_mounted:
            self.query_one("#status-position", Static).update(position)

    def watch_message(self, message: str) -> None:
        if self.is_mounted:
            self.query_one("#status-message", Static).update(message)

    def on_mount(self) -> None:
        self.watch_marked_count()
        self.watch_message(self.message)
        self.watch_position(self.position)
