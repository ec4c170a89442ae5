"""The job of a use case: its log entry and live progress, after settling interrupted creations.

:class:`JobRun` is :class:`~bc_tui.sync.job_log.JobLog` (the job in the store, its counters,
errors, progress and heartbeat) plus one step before the job opens: given the session, the
create intents an ended job left on the job's table mapping are settled first
(docs/interrupted-jobs.md). Settling logs its own job with ``JobLog``, which is why the two
are apart.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Unpack

from bc_tui.config import DEFAULT_HISTORY_DAYS
from bc_tui.store import interrupted
from bc_tui.store.fields import utc_now
from bc_tui.store.history import prune_history
from bc_tui.store.jobs import JobType
from bc_tui.sync.job_log import JobLog, JobOptions, JobSummary, Progress, ProgressCallback, RecordResult
from bc_tui.sync.session import SyncSession
from bc_tui.sync.settle import resume_pending_creates


class JobRun(JobLog):
    """One job of a use case, as an async context manager (see :class:`JobLog`).

    Pass ``session`` so that the creations an interrupted job left on ``mapping`` are settled
    before this job starts.
    """

    def __init__(self, job_type: JobType, *, session: SyncSession | None = None, **options: Unpack[JobOptions]) -> None:
        super().__init__(job_type, db=session.db if session is not None else None, **options)
        self._session = session

    async def _before_start(self) -> None:
        """Forget what jobs overwrote longer ago than the profile keeps it (one DELETE on an
        indexed column: docs/undo-and-history.md "History"); settle, in a creation job of their
        own, the create intents an ended job left on the mapping."""
        if self._session is None:
            return
        profile = self._session.profile
        days = profile.history_days if profile is not None else DEFAULT_HISTORY_DAYS
        await self._session.db(prune_history, utc_now() - timedelta(days=days))
        if self.mapping is None:
            return
        if not await self._session.db(interrupted.settleable_intents, self.mapping):
            return
        # Any failure is logged as that creation job's crash; the intents wait for the next job.
        with contextlib.suppress(Exception):
            await resume_pending_creates(self._session, self.mapping)


def records_job(
    session: SyncSession,
    job_type: JobType,
    mapping_name: str,
    direction: str | None,
    total: int,
    progress: ProgressCallback | None,
) -> JobRun:
    """A job of ``session`` over ``total`` named records of one table mapping, in ``direction``
    (a direction's value; None: no direction)."""
    return JobRun(job_type, mapping=mapping_name, direction=direction, total=total, progress=progress, session=session)


__all__ = ["JobLog", "JobRun", "JobSummary", "Progress", "ProgressCallback", "RecordResult", "records_job"]
