"""The synchronization log as the log, errors and job screens read it (docs/coupling-and-sync.md
"The synchronization log and its errors"): jobs with their counters, the errors of a job, the
jobs of one record, and a summary read back from the log.

Reading the log first marks jobs whose process is gone as interrupted, so none shows
"running" forever (docs/interrupted-jobs.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from bc_tui.store import jobs as store_jobs
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.interrupted import mark_interrupted_jobs
from bc_tui.store.jobs import COUNTERS, JobErrorRecord, JobRecord, JobStatus
from bc_tui.sync.job_log import JobSummary
from bc_tui.sync.session import SyncSession

__all__ = [
    "COUNTERS",
    "JobErrorRecord",
    "JobRecord",
    "JobStatus",
    "combine_summaries",
    "job_errors",
    "logged_summary",
    "recent_jobs",
    "record_jobs",
]


async def recent_jobs(session: SyncSession, limit: int) -> list[JobRecord]:
    """The latest ``limit`` jobs, newest first (jobs whose process is gone marked interrupted)."""
    return await session.db(_recent_jobs, limit)


def _recent_jobs(limit: int) -> list[JobRecord]:
    mark_interrupted_jobs()
    return store_jobs.list_jobs(limit=limit)


async def record_jobs(session: SyncSession, bc_id: str, mapping_names: Iterable[str], limit: int) -> list[JobRecord]:
    """The jobs that logged an error for the BC record ``bc_id`` or last synchronized it (those
    logged no error when it went well), newest first."""
    return await session.db(_record_jobs, bc_id, list(mapping_names), limit)


def _record_jobs(bc_id: str, mapping_names: Iterable[str], limit: int) -> list[JobRecord]:
    mark_interrupted_jobs()
    ids = {error.job_id for error in store_jobs.record_errors(bc_id=bc_id, limit=limit)}
    for name in mapping_names:
        coupling = get_by_bc_id(name, bc_id)
        if coupling is not None:
            ids.update(i for i in (coupling.to_dataverse_job_id, coupling.from_dataverse_job_id) if i)
    found = []
    for job_id in ids:
        try:
            found.append(store_jobs.get_job(job_id))
        except Exception:  # noqa: BLE001 - a job cleaned up since: nothing to show
            continue
    return sorted(found, key=lambda j: (j.started_at, j.id), reverse=True)


async def job_errors(session: SyncSession, job_id: int) -> list[JobErrorRecord]:
    """The errors logged by job ``job_id``, in the order they happened."""
    return await session.db(store_jobs.job_errors, job_id)


async def logged_summary(session: SyncSession, job_id: int, message: str) -> JobSummary:
    """The summary of job ``job_id`` as the log has it (for a job that ended without one:
    cancelled or crashed); ``message`` when the log has none. Raises when the log cannot be read."""
    record = await session.db(store_jobs.get_job, job_id)
    counters = {name: getattr(record, name) for name in COUNTERS if getattr(record, name)}
    return JobSummary(record.id, counters, status=record.status, message=record.message or message)


def combine_summaries(summaries: Sequence[JobSummary]) -> JobSummary:
    """One summary for engine calls that run one job per table mapping (the errors screen's).

    The counters and results are added up; the id is the first job with a failure or a conflict
    (its log entry is the one the failures key opens); the status is the worst one.
    """
    if not summaries:
        raise ValueError("combine_summaries needs at least one summary")
    if len(summaries) == 1:
        return summaries[0]
    counters: Counter[str] = Counter()
    for summary in summaries:
        counters.update(summary.counters)
    failed = next((s for s in summaries if s.failed or s.conflicts), summaries[0])
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
