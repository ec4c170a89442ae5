"""Exporting a record list to CSV under the job dialog: progress, cancel, and where it went
(docs/showing-data.md "Export to CSV").

The export itself is the sync layer's (``bc_tui.sync.export.export_list``: page by page through
the read model, into a temporary file renamed at the end); this dialog only runs it and shows
it. It is not a synchronization job: nothing is logged, so there are no failures to open and
nothing to undo.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Static

from bc_tui.sync.export import export_list
from bc_tui.sync.lists import MappingList
from bc_tui.sync.logged_jobs import JobStatus
from bc_tui.sync.progress import JobSummary, ProgressCallback
from bc_tui.tui.dialogs.job import JobScreen
from bc_tui.tui.export_path import ExportPathDialog, default_export_path


class ExportScreen(JobScreen):
    """The job dialog over an export: "N of M records", esc cancels, the end says where."""

    def _redraw(self) -> None:
        super()._redraw()
        self._show_rows()

    def _show_end(self) -> None:
        super()._show_end()
        self._show_rows()

    def _show_rows(self) -> None:
        """Rows written, not the job counters: an export has no failed or skipped records."""
        progress = self.progress
        if progress is not None:
            of = f" of {progress.total:,}" if progress.total else ""
            self.query_one("#job-counts", Static).update(f"{progress.done:,}{of} rows written")

    def _has_log(self) -> bool:
        return False  # an export logs no job: there are no failures to open

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("failures", "undo_job"):
            return False
        return super().check_action(action, parameters)

    async def _summary_from_log(self, status: JobStatus, message: str) -> JobSummary | None:
        # Cancelled or failed: the temporary file is gone and the target untouched.
        return JobSummary(0, {}, status=status, message=message)

    def _end_text(self) -> str:
        summary = self.summary
        if self.error:
            return f"The export stopped: {self.error}"
        if summary is None or summary.status is JobStatus.CANCELLED:
            return "The export was cancelled; no file was written."
        return f"Done. {summary.message}"


async def export_list_flow(
    app: App[Any],
    title: str,
    what: str,
    records: MappingList,
    *,
    marked: Container[str] | None = None,
    marked_count: int | None = None,
    wanted: int | None = None,
) -> Path | None:
    """Ask where, then export ``records`` (its current filter and sort; only the ``marked``
    keys when given, ``marked_count`` of them as the list counts; ``wanted``: that many exactly,
    so reading stops when all are written) under the job dialog; returns the file written, or None. ``what`` names
    the default file (``customers`` → ``customers-2026-12-02-1605.csv``). Call from a worker."""
    if marked is None:
        detail = "Every row of the list as filtered, page by page."
    else:
        count = f"{marked_count:,} " if marked_count is not None else ""
        detail = f"The {count}marked row{'' if marked_count == 1 else 's'} of the list as filtered."
    path = await app.push_screen_wait(ExportPathDialog(title, default_export_path(what), detail))
    if path is None:
        return None

    async def job(progress: ProgressCallback) -> JobSummary:
        exported = await export_list(records, path, only=marked, wanted=wanted, progress=progress)
        noun = "row" if exported.rows == 1 else "rows"
        return JobSummary(0, {}, message=f"Wrote {exported.rows:,} {noun} to {path}.")

    summary = await app.push_screen_wait(ExportScreen(f"Exporting {title} to CSV", job))
    if summary is None or summary.status is not JobStatus.FINISHED:
        return None
    return path


__all__ = ["ExportScreen", "export_list_flow"]
