"""The synchronization job log and its errors, and the errors overview.

See docs/coupling-and-sync.md "The synchronization log and its errors".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bc_tui.store.bulk import insert_rows
from bc_tui.store.coupling_queries import problem_couplings
from bc_tui.store.detach import detached
from bc_tui.store.errors import NotFoundError
from bc_tui.store.fields import utc_now
from bc_tui.store.liveness import this_process
from bc_tui.store.models import JobError, SyncJob
from bc_tui.store.records import CouplingRecord

COUNTERS: tuple[str, ...] = (
    "inserted",
    "modified",
    "deleted",
    "unchanged",
    "skipped",
    "failed",
    "conflicts",
    "coupled",
    "uncoupled",
    "unmatched",
)


class JobType(StrEnum):
    """What a synchronization job did."""

    SYNCHRONIZATION = "synchronization"
    COUPLING = "coupling"
    UNCOUPLING = "uncoupling"
    CREATION = "creation"
    MATCH_BASED_COUPLING = "match-based coupling"
    COUPLING_CHECK = "coupling check"  # both records of each coupling looked up (sync/check.py)


class JobStatus(StrEnum):
    """Where a job is: running, or how it ended."""

    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    CRASHED = "crashed"  # an error inside a live process ended the job
    INTERRUPTED = "interrupted"  # the process itself ended (killed, power loss, terminal closed)


@dataclass(frozen=True)
class JobRecord:
    """One synchronization job with its counters, detached from the database."""

    id: int
    type: JobType
    direction: str | None
    mapping: str | None
    started_at: datetime
    finished_at: datetime | None
    message: str
    status: JobStatus
    inserted: int = 0
    modified: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    conflicts: int = 0
    coupled: int = 0
    uncoupled: int = 0
    unmatched: int = 0  # match-based coupling: no unique uncoupled match (not a failure)
    total: int | None = None  # records the job expected to handle, when known
    heartbeat_at: datetime | None = None  # its last sign of life while running
    host: str | None = None  # who ran it
    pid: int | None = None

    @property
    def duration(self) -> timedelta | None:
        """How long the job ran; None while it is running."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    @property
    def done(self) -> int:
        """Records handled so far: each one adds to exactly one counter."""
        return sum(getattr(self, name) for name in COUNTERS)


@dataclass(frozen=True)
class JobErrorRecord:
    """One failure logged by a job."""

    id: int
    job_id: int
    created_at: datetime
    message: str
    detail: str
    source_description: str
    source_id: str | None
    destination_description: str
    destination_id: str | None
    bc_id: str | None
    dataverse_id: str | None


@dataclass(frozen=True)
class ErrorsOverview:
    """What the errors screen lists ("Coupled Data Synchronization Errors")."""

    skipped: list[CouplingRecord]
    conflict: list[CouplingRecord]  # a conflict waits for a winner, not (yet) skipped
    failed: list[CouplingRecord]  # last sync failed, not (yet) skipped
    broken: list[CouplingRecord]  # one of the coupled records was deleted

    @property
    def total(self) -> int:
        """How many couplings need attention (each is in one list only)."""
        return len(self.skipped) + len(self.conflict) + len(self.failed) + len(self.broken)


def start_job(
    job_type: JobType,
    *,
    mapping: str | None = None,
    direction: str | None = None,
    message: str = "",
) -> JobRecord:
    """Open a job in the log (status running) and return it; its id goes on every result.

    The job records this process (host, pid, start time) and a first heartbeat, so that a later
    process can tell whether it still runs (:mod:`bc_tui.store.interrupted`).
    """
    me = this_process()
    row = SyncJob.create(
        type=JobType(job_type).value,
        mapping=mapping,
        direction=None if direction is None else str(direction),
        message=message,
        status=JobStatus.RUNNING.value,
        host=me.host,
        pid=me.pid,
        process_started=me.started or None,
        heartbeat_at=utc_now(),
    )
    return _job(row)


def increment(job_id: int, **counts: int) -> None:
    """Add to a job's counters in one statement, e.g. ``increment(job.id, modified=1)``."""
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown job counters {sorted(unknown)}; known: {', '.join(COUNTERS)}")
    changes = {getattr(SyncJob, name): getattr(SyncJob, name) + n for name, n in counts.items() if n}
    if changes:
        SyncJob.update(changes).where(SyncJob.id == job_id).execute()


def heartbeat(job_id: int, *, total: int | None = None, **counts: int) -> None:
    """Say that a running job is alive: one short UPDATE of its heartbeat, total and counters.

    ``counts`` are added to the counters as in :func:`increment`. Only a running job is
    touched, so a late heartbeat never revives a job another process marked interrupted.
    """
    unknown = set(counts) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown job counters {sorted(unknown)}; known: {', '.join(COUNTERS)}")
    changes: dict[object, object] = {
        getattr(SyncJob, name): getattr(SyncJob, name) + n for name, n in counts.items() if n
    }
    changes[SyncJob.heartbeat_at] = utc_now()
    if total is not None:
        changes[SyncJob.total] = total
    SyncJob.update(changes).where((SyncJob.id == job_id) & (SyncJob.status == JobStatus.RUNNING.value)).execute()


def finish_job(job_id: int, status: JobStatus = JobStatus.FINISHED, message: str | None = None) -> JobRecord:
    """Close a job as finished / cancelled / crashed, optionally replacing its message."""
    changes: dict[str, object] = {"status": JobStatus(status).value, "finished_at": utc_now()}
    if message is not None:
        changes["message"] = message
    SyncJob.update(**changes).where(SyncJob.id == job_id).execute()
    return get_job(job_id)


def get_job(job_id: int) -> JobRecord:
    """The job with this id; :class:`NotFoundError` when it was cleaned up."""
    row = SyncJob.get_or_none(SyncJob.id == job_id)
    if row is None:
        raise NotFoundError(f"The synchronization job {job_id} no longer exists; it may have been cleaned up.")
    return _job(row)


def list_jobs(*, mapping: str | None = None, job_type: JobType | None = None, limit: int = 200) -> list[JobRecord]:
    """The newest jobs first, optionally of one table mapping and/or type."""
    query = SyncJob.select().order_by(SyncJob.started_at.desc(), SyncJob.id.desc()).limit(limit)
    if mapping is not None:
        query = query.where(SyncJob.mapping == mapping)
    if job_type is not None:
        query = query.where(SyncJob.type == JobType(job_type).value)
    return [_job(row) for row in query]


def add_job_error(
    job_id: int,
    message: str,
    *,
    detail: str = "",
    source_description: str = "",
    source_id: str | None = None,
    destination_description: str = "",
    destination_id: str | None = None,
    bc_id: str | None = None,
    dataverse_id: str | None = None,
) -> JobErrorRecord:
    """Log one failure of a job (it does not touch the job's counters)."""
    row = JobError.create(
        job=job_id,
        message=message,
        detail=detail,
        source_description=source_description,
        source_id=source_id,
        destination_description=destination_description,
        destination_id=destination_id,
        bc_id=bc_id.lower() if bc_id else None,
        dataverse_id=dataverse_id.lower() if dataverse_id else None,
    )
    return _job_error(row)


#: The columns :func:`add_job_errors` writes, in its rows' order.
_ERROR_COLUMNS = (
    "job_id",
    "created_at",
    "message",
    "detail",
    "source_description",
    "source_id",
    "destination_description",
    "destination_id",
    "bc_id",
    "dataverse_id",
)


def add_job_errors(errors: Sequence[Mapping[str, Any]]) -> None:
    """Log many failures at once, each given as :func:`add_job_error`'s arguments (``job_id``,
    ``message`` and any of its keywords): a few statements per 500 errors, not one each."""
    now = JobError.created_at.db_value(utc_now())
    rows = [
        (
            error["job_id"],
            now,
            error["message"],
            error.get("detail") or "",
            error.get("source_description") or "",
            error.get("source_id"),
            error.get("destination_description") or "",
            error.get("destination_id"),
            error["bc_id"].lower() if error.get("bc_id") else None,
            error["dataverse_id"].lower() if error.get("dataverse_id") else None,
        )
        for error in errors
    ]
    insert_rows(JobError, _ERROR_COLUMNS, rows)


def job_errors(job_id: int) -> list[JobErrorRecord]:
    """The failures a job logged, in the order they happened."""
    query = JobError.select().where(JobError.job == job_id).order_by(JobError.id)
    return [_job_error(row) for row in query]


def record_errors(
    *, bc_id: str | None = None, dataverse_id: str | None = None, limit: int = 100
) -> list[JobErrorRecord]:
    """The newest failures logged for one record, by its BC and/or Dataverse id."""
    condition = None
    for column, value in ((JobError.bc_id, bc_id), (JobError.dataverse_id, dataverse_id)):
        if value:
            term = column == value.lower()
            condition = term if condition is None else condition | term
    if condition is None:
        return []
    query = JobError.select().where(condition).order_by(JobError.id.desc()).limit(limit)
    return [_job_error(row) for row in query]


def errors_overview(mapping: str | None = None) -> ErrorsOverview:
    """The skipped, conflicting, failed and broken couplings, for the errors screen: each in
    the first list it belongs to, in that order (broken first), so it is listed once."""
    skipped: list[CouplingRecord] = []
    conflict: list[CouplingRecord] = []
    failed: list[CouplingRecord] = []
    broken: list[CouplingRecord] = []
    for record in problem_couplings(mapping):
        if record.broken:
            broken.append(record)
        elif record.skipped:
            skipped.append(record)
        elif record.conflict:
            conflict.append(record)
        else:
            failed.append(record)
    return ErrorsOverview(skipped=skipped, conflict=conflict, failed=failed, broken=broken)


def _job(row: SyncJob) -> JobRecord:
    return detached(JobRecord, row, type=JobType(row.type), status=JobStatus(row.status))


def _job_error(row: JobError) -> JobErrorRecord:
    return detached(JobErrorRecord, row)
