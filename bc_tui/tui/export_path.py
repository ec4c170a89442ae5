"""Where an export goes: a dialog with the file's path, ready to confirm (docs/showing-data.md
"Export to CSV").

The path starts as the current folder and a readable, timestamped name
(``customers-2026-12-02-1605.csv``). ``enter`` takes it; when the file exists the dialog says so
and a second ``enter`` on the same path replaces it (any edit asks again); ``escape`` cancels.
The dialog asks its own "replace?" so that the screens below the dialogs layer (the
synchronization log) can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from bc_tui.domain.text import shorten
from bc_tui.sync.export import ExportError, default_file_name, write_table
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.paths import style_path
from bc_tui.tui.shown import Literal
from bc_tui.tui.widgets.footer import Footer


def default_export_path(what: str) -> Path:
    """The current folder and a timestamped name for ``what`` (e.g. ``customers``)."""
    return Path.cwd() / default_file_name(what)


class ExportPathDialog(ModalScreen[Path | None]):
    """Ask where to write the CSV of ``title``; dismisses with the path, or None (cancelled)."""

    CSS_PATH = [style_path("dialogs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("export")  # the keys: tui/actions.py

    def __init__(self, title: str, path: Path, detail: str = "") -> None:
        """``title``: what is exported ("Customers"); ``path``: the proposed file;
        ``detail``: what will be written, e.g. "The 3 marked rows."."""
        super().__init__(classes="bc-dialog")
        self.export_title = title
        self.path = path
        self.detail = detail
        self._replace_confirmed: Path | None = None  # the existing file enter was pressed on once

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog-panel"):
            yield Literal(f"Export {self.export_title} to CSV", classes="dialog-title")
            if self.detail:
                yield Literal(self.detail, id="export-detail")
            yield Literal("Write the file:", id="export-question")
            yield Input(value=str(self.path), id="export-path", select_on_focus=False)
            yield Literal("", id="export-warning", classes="dialog-warning")
        yield Footer()

    def on_mount(self) -> None:
        self._warn("")
        self.query_one(Input).focus()

    def _warn(self, text: str) -> None:
        warning = self.query_one("#export-warning", Static)
        warning.update(text)
        warning.display = bool(text)  # an empty warning strip would read as a blank alarm

    def action_ok(self) -> None:
        """Take the typed path (a second enter replaces an existing file)."""
        self._take(self.query_one(Input).value)

    def action_cancel(self) -> None:
        """Close without exporting."""
        self.dismiss(None)

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._take(event.value)

    @on(Input.Changed, "#export-path")
    def _changed(self, event: Input.Changed) -> None:
        # Another path: a replacement confirmed for the old one does not carry over.
        self._replace_confirmed = None
        self._warn("")

    def _take(self, typed: str) -> None:
        text = typed.strip()
        if not text:
            self._warn("Type the path of the CSV file, or press esc to cancel.")
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        shown = shorten(str(path), 300)
        if path.is_dir():
            self._warn(f"{shown} is a folder; add a file name, e.g. {default_file_name('export')}.")
            return
        if path.exists() and self._replace_confirmed != path:
            self._replace_confirmed = path
            self._warn(f"{shown} exists. Press enter again to replace it, or change the name.")
            return
        self.dismiss(path)


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


async def export_rows(
    app: App[Any], title: str, what: str, header: Sequence[str], rows: Sequence[Sequence[Any]], noun: str
) -> str | None:
    """Ask where, then write ``rows`` (already on screen, so already in memory: the log's jobs,
    a job's errors, the errors screen's couplings) as CSV; returns the sentence to show (where
    it went, or why it could not be written), None when cancelled. Call from a worker."""
    detail = f"{_count(len(rows), noun)}, as listed."
    path = await app.push_screen_wait(ExportPathDialog(title, default_export_path(what), detail))
    if path is None:
        return None
    try:
        written = write_table(path, header, rows)
    except ExportError as error:
        return str(error)
    return f"Wrote {_count(written.rows, noun)} to {path}."


__all__ = ["ExportPathDialog", "default_export_path", "export_rows"]
