"""The running-job dialog: live progress of one synchronization job, cancel, summary, failures.

`JobScreen` runs the job (an engine call that takes a progress callback) in a worker of its
own. The engine may report progress for every record; the dialog only keeps the latest report
and draws it on a timer, so a job of 100,000 records costs ten redraws a second, not 100,000.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, WorkerState

from bc_tui.domain.text import shorten
from bc_tui.sync.errors import plain
from bc_tui.sync.logged_jobs import COUNTERS, JobStatus, logged_summary
from bc_tui.sync.progress import JobSummary, Progress, ProgressCallback
from bc_tui.tui.backend import app_session
from bc_tui.tui.bindings import bindings_for
from bc_tui.tui.paths import style_path
from bc_tui.tui.screens.log import LogScreen
from bc_tui.tui.shown import Literal
from bc_tui.tui.widgets.footer import Footer

Job = Callable[[ProgressCallback], Awaitable[JobSummary]]
"""A job as `run_job` takes it: an engine call given the progress callback."""

#: How often the dialog redraws the progress (seconds): at most ten times a second.
REDRAW_SECONDS = 0.1
#: How often the screens underneath hear about progress (seconds), so lists can refresh.
ANNOUNCE_SECONDS = 1.0

_LABELS = {name: name.capitalize() for name in COUNTERS}
#: The counters of records a job wrote (what undo can put back).
_WRITTEN = ("inserted", "modified")


class JobProgressed(Message):
    """A running job handled more records (posted to the app at most once a second)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress


class JobFinished(Message):
    """A job ended (finished, cancelled or failed to start); posted to the app so that lists
    can refresh. ``summary`` is None when the job never started (its error is ``error``)."""

    def __init__(self, title: str, summary: JobSummary | None, error: str | None = None) -> None:
        super().__init__()
        self.title = title
        self.summary = summary
        self.error = error


def summary_lines(summary: JobSummary) -> list[str]:
    """The non-zero counters of a job, e.g. ``["Inserted 3", "Failed 1"]`` (log order)."""
    return [f"{_LABELS[name]} {summary.counters[name]:,}" for name in COUNTERS if summary.counters.get(name)]


def summary_text(summary: JobSummary) -> str:
    """One line for a status bar: the counters, or "Nothing to do." when all are zero."""
    lines = summary_lines(summary)
    return " · ".join(lines) if lines else "Nothing to do."


class JobScreen(ModalScreen[JobSummary | None]):
    """Runs ``job`` and shows its progress; at the end its summary.

    Dismissed with the job's summary: the engine's, or for a cancelled job one read back from
    the log (status cancelled); None when the job could not start.
    """

    class UndoRequested(Message):
        """The user asked to undo the job just shown (the app asks and runs the undo, as for the
        log's ``u``: this dialog only closes)."""

        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    CSS_PATH = [style_path("jobs.tcss")]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("job")  # the keys: tui/actions.py

    def __init__(self, title: str, job: Job) -> None:
        super().__init__()
        self.job_title = title
        self._job = job
        self._worker: Worker[JobSummary] | None = None
        self._latest: Progress | None = None
        self._drawn: Progress | None = None
        self._announced_at = 0.0
        self.summary: JobSummary | None = None
        """How the job ended (None while running, or when it could not start)."""
        self.error: str | None = None
        """Why the job could not run (one sentence), if so."""

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="job-dialog"):
            yield Literal(self.job_title, id="job-title")
            yield ProgressBar(id="job-progress", show_eta=False)
            yield Literal("Starting…", id="job-counts")
            yield Literal("", id="job-current")
            yield Literal("", id="job-summary")
            yield Literal("esc cancels the job", id="job-hint")
        yield Footer()

    def on_mount(self) -> None:
        self._worker = self.run_worker(self._execute(), name=self.job_title, group="job", exit_on_error=False)
        self.set_interval(REDRAW_SECONDS, self._redraw)

    @property
    def running(self) -> bool:
        """True until the job has ended (finished, cancelled or failed)."""
        return self._worker is None or self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    @property
    def progress(self) -> Progress | None:
        """The latest progress the engine reported."""
        return self._latest

    # --- the job ---------------------------------------------------------------------------

    async def _execute(self) -> JobSummary:
        return await self._job(self._on_progress)

    def _on_progress(self, progress: Progress) -> None:
        # Called by the engine for every record: remember only; the timer draws.
        self._latest = progress
        now = asyncio.get_running_loop().time()
        if now - self._announced_at >= ANNOUNCE_SECONDS:
            self._announced_at = now
            self.app.post_message(JobProgressed(progress))

    @on(Worker.StateChanged)
    async def _job_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        event.stop()
        state = event.state
        if state is WorkerState.SUCCESS:
            self.summary = event.worker.result
        elif state is WorkerState.CANCELLED:
            self.summary = await self._cancelled_summary()
        elif state is WorkerState.ERROR:
            error = event.worker.error
            self.error = plain(error) if error is not None else "The job stopped for an unknown reason."
            self.summary = await self._summary_from_log(JobStatus.CRASHED, self.error)
        else:
            return
        self._show_end()
        self.app.post_message(JobFinished(self.job_title, self.summary, self.error))

    async def _summary_from_log(self, status: JobStatus, message: str) -> JobSummary | None:
        """What the log says about a job that ended without a summary (cancelled or crashed)."""
        if self._latest is None:
            return None
        try:
            session = app_session(self.app)
            if session is None:
                raise RuntimeError("no session: the log cannot be read")
            return await logged_summary(session, self._latest.job_id, message)
        except Exception:  # noqa: BLE001 - the log is only a better account: the counts we have will do
            latest = self._latest
            counters = {"failed": latest.failed, "conflicts": latest.conflicts, "skipped": latest.skipped}
            return JobSummary(self._latest.job_id, counters, status=status, message=message)

    async def _cancelled_summary(self) -> JobSummary | None:
        done = self._latest
        if done is None:
            return None
        of = f" of {done.total:,}" if done.total else ""
        return await self._summary_from_log(JobStatus.CANCELLED, f"Cancelled after {done.done:,}{of} records.")

    # --- drawing ---------------------------------------------------------------------------

    def _redraw(self) -> None:
        progress = self._latest
        if progress is None or progress is self._drawn or not self.running:
            return
        self._drawn = progress
        bar = self.query_one("#job-progress", ProgressBar)
        bar.update(total=progress.total or None, progress=progress.done)
        of = f" of {progress.total:,}" if progress.total else ""
        self.query_one("#job-counts", Static).update(f"{progress.done:,}{of} records · {_problems(progress)}")
        self.query_one("#job-current", Static).update(shorten(progress.current or ""))

    def _show_end(self) -> None:
        summary, progress = self.summary, self._latest
        bar = self.query_one("#job-progress", ProgressBar)
        counts = self.query_one("#job-counts", Static)
        if progress is not None:
            done = progress.done
            total = max(progress.total, done, 1)
            # A finished job is complete even when the engine's total was only an estimate.
            finished = summary is not None and summary.status is JobStatus.FINISHED
            bar.update(total=total, progress=total if finished else done)
            of = f" of {progress.total:,}" if progress.total else ""
            counts.update(f"{done:,}{of} records · {_problems(progress)}")
        else:
            bar.update(total=1, progress=0)
            counts.update("")
        self.query_one("#job-current", Static).update("")
        self.query_one("#job-summary", Static).update(self._end_text())
        status = summary.status if summary else JobStatus.CRASHED
        self.set_class(status is JobStatus.FINISHED and not self.error, "-finished")
        self.set_class(status is JobStatus.CANCELLED, "-cancelled")
        self.set_class(bool(self.error), "-error")
        hint = "enter or esc closes"
        if self._has_log():
            hint += " · f opens the failures in the synchronization log"
        self.query_one("#job-hint", Static).update(hint)
        self.refresh_bindings()

    def _end_text(self) -> str:
        summary = self.summary
        if summary is None:
            return self.error or "The job was cancelled before it started."
        if self.error:
            head = f"The job stopped: {self.error}"
        elif summary.status is JobStatus.CANCELLED:
            head = "The job was cancelled."
        else:
            head = "Done."
        lines = [head, summary_text(summary)]
        if summary.message and summary.message != self.error:
            lines.append(summary.message)
        return "\n".join(lines)

    def _has_log(self) -> bool:
        return self.summary is not None

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_job":
            return self.running
        if action == "close":
            return not self.running
        if action == "failures":
            return (not self.running and self._has_log()) or None
        if action == "undo_job":
            return not self.running and self._wrote_records()
        return True

    def _wrote_records(self) -> bool:
        """Whether the ended job wrote records, so that undoing it has something to put back."""
        summary = self.summary
        return summary is not None and any(summary.counters.get(name) for name in _WRITTEN)

    def action_cancel_job(self) -> None:
        """Cancel the running job (records already handled stay handled)."""
        if self._worker is not None and self.running:
            self.query_one("#job-current", Static).update("Cancelling…")
            self._worker.cancel()

    def action_close(self) -> None:
        """Close the dialog, handing the summary to the caller."""
        self.dismiss(self.summary)

    def action_undo_job(self) -> None:
        """Undo this job (docs/undo-and-history.md "Undo"): the dialog closes and the app asks,
        as the synchronization log's ``u`` does, then runs the undo as a job of its own."""
        if self.summary is None or self.running:
            return
        self.app.post_message(self.UndoRequested(self.summary.job_id))
        self.dismiss(self.summary)

    def action_failures(self) -> None:
        """Open this job's entry in the synchronization log, with its errors."""
        if self.summary is None:
            return
        self.app.push_screen(LogScreen(job_id=self.summary.job_id))


def _problems(progress: Progress) -> str:
    """'F failed · S skipped', with the conflicts between them when there are any."""
    conflicts = (
        f" · {progress.conflicts:,} conflict{'' if progress.conflicts == 1 else 's'}" if progress.conflicts else ""
    )
    return f"{progress.failed:,} failed{conflicts} · {progress.skipped:,} skipped"
