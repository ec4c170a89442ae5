"""Running synchronization jobs from the TUI: one call that shows progress and the summary.

Interface::

    async def run_job(app, title, job) -> JobSummary | None

``job`` is an engine call that takes the progress callback, e.g.
``lambda progress: synchronize_many(session, "CUSTOMER", ids, SEND, progress=progress)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App

from bc_tui.sync.progress import JobSummary, ProgressCallback
from bc_tui.tui.dialogs.job import JobScreen

__all__ = ["run_job"]


async def run_job(
    app: App[Any], title: str, job: Callable[[ProgressCallback], Awaitable[JobSummary]]
) -> JobSummary | None:
    """Run ``job`` under the progress dialog and return its summary once the user closes it.

    The dialog shows done/total, failures and skips so far and the current record; ``escape``
    cancels the job (the engine marks it cancelled in the log) and the summary read back from
    the log is returned with status cancelled; ``f`` at the end opens the job's failures. None
    when the job could not start (its error sentence was shown in the dialog). A
    :class:`~bc_tui.tui.dialogs.job.JobFinished` message is posted to the app when the job
    ends. Call from a worker.
    """
    return await app.push_screen_wait(JobScreen(title, job))
