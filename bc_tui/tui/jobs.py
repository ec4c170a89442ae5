"""Running synchronization jobs from the TUI: one call that shows progress and the summary.

Interface::

    async def run_job(app, title, job) -> JobSummary | None

``job`` is an engine call that takes the progress callback, e.g.
``lambda progress: synchronize_many(session, "CUSTOMER", ids, SEND, progress=progress)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from textual.app import App

from bc_tui.store.jobs import JobStatus
from bc_tui.sync.progress import JobSummary, ProgressCallback
from bc_tui.tui.dialogs.job import JobFinished, JobProgressed, JobScreen, summary_lines, summary_text
from bc_tui.tui.dialogs.match import MatchDialog, MatchRequest, match_flow
from bc_tui.tui.shown import notify

if TYPE_CHECKING:
    from bc_tui.sync.session import SyncSession
    from bc_tui.tui.screens.errors import ErrorsScreen
    from bc_tui.tui.screens.log import LogScreen

__all__ = [
    "ErrorsScreen",
    "JobFinished",
    "JobProgressed",
    "JobScreen",
    "LogScreen",
    "MatchDialog",
    "MatchRequest",
    "app_session",
    "combine_summaries",
    "match_flow",
    "run_job",
    "summary_lines",
    "summary_text",
    "tell",
]


def __getattr__(name: str) -> Any:
    # The screens import this module (run_job), so they are re-exported lazily.
    if name == "LogScreen":
        from bc_tui.tui.screens.log import LogScreen

        return LogScreen
    if name == "ErrorsScreen":
        from bc_tui.tui.screens.errors import ErrorsScreen

        return ErrorsScreen
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def run_job(
    app: App, title: str, job: Callable[[ProgressCallback], Awaitable[JobSummary]]
) -> JobSummary | None:
    """Run ``job`` under the progress dialog and return its summary once the user closes it.

    The dialog shows done/total, failures and skips so far and the current record; ``escape``
    cancels the job (the engine marks it cancelled in the log) and the summary read back from
    the log is returned with status cancelled; ``f`` at the end opens the job's failures. None
    when the job could not start (its error sentence was shown in the dialog). A
    :class:`JobFinished` message is posted to the app when the job ends. Call from a worker.
    """
    return await app.push_screen_wait(JobScreen(title, job))


def combine_summaries(summaries: Sequence[JobSummary]) -> JobSummary:
    """One summary for engine calls that run one job per table mapping (the errors screen's).

    The counters and results are added up; the id is the first job's (its log entry is the one
    the failures key opens); the status is the worst one.
    """
    if not summaries:
        raise ValueError("combine_summaries needs at least one summary")
    if len(summaries) == 1:
        return summaries[0]
    counters: Counter[str] = Counter()
    for summary in summaries:
        counters.update(summary.counters)
    failed = next((s for s in summaries if s.failed), summaries[0])
    statuses = [s.status for s in summaries]
    worst = (JobStatus.INTERRUPTED, JobStatus.CRASHED, JobStatus.CANCELLED)
    status = next((s for s in worst if s in statuses), JobStatus.FINISHED)
    return JobSummary(
        job_id=failed.job_id,
        counters=dict(counters),
        results=[r for s in summaries for r in s.results],
        status=status,
        message=" ".join(s.message for s in summaries if s.message),
    )


def app_session(app: App) -> "SyncSession | None":
    """The app's sync session (``app.backend.session``), or None after telling the user why
    coupling and synchronization are unavailable (the connection's problem and its fix)."""
    backend = getattr(app, "backend", None)
    session = getattr(backend, "session", None)
    if session is None:
        state = getattr(backend, "state", None)
        problem = getattr(state, "problem", None) or "the app is still connecting; try again in a moment."
        notify(app, f"Coupling and synchronization are unavailable: {problem}", severity="error")
    return session


def tell(app: App, message: str) -> None:
    """Put a result in the main screen's status line (a notification where there is none)."""
    show = getattr(app, "show_message", None)
    if callable(show):
        try:
            show(message)
            return
        except Exception:  # noqa: BLE001 - the main screen may not be there (other apps, tests)
            pass
    notify(app, message)
