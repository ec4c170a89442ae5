"""Jobs whose process ended while they ran, and the create intents they left (docs/interrupted-jobs.md).

A job killed mid-way (kill -9, power loss, a closed terminal) cannot close itself in the log: it
stays "running". Before every job starts (and when ``bc-tui status`` runs), such jobs are marked
**interrupted**. Each running job records its host, pid and process start time and refreshes a
heartbeat (with its counters) while it runs, so:

* on the same host, a job whose process is gone (or whose pid now belongs to a process that
  started at another time) is interrupted at once;
* on another host (team mode on PostgreSQL), or where the process cannot be examined, a job
  whose heartbeat is older than :data:`STALE_AFTER` is interrupted;
* a job of another live bc-tui process is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bc_tui.store.create_intents import pending_intents
from bc_tui.store.fields import utc_now
from bc_tui.store.jobs import COUNTERS, JobRecord, JobStatus, get_job
from bc_tui.store.liveness import Liveness, ProcessIdentity, liveness
from bc_tui.store.models import SyncJob
from bc_tui.store.records import CreateIntentRecord

#: How often a running job refreshes its heartbeat (and writes its counters).
HEARTBEAT_SECONDS = 5.0
#: A job of another host whose heartbeat is this old is taken for interrupted. Generous: a
#: process busy with a long read or a slow service must not lose its job to another host.
STALE_AFTER = timedelta(minutes=10)


def mark_interrupted_jobs(*, stale_after: timedelta = STALE_AFTER, now: datetime | None = None) -> list[JobRecord]:
    """Mark the jobs left "running" by a process that is gone as interrupted; return them.

    Each gets the time of its last sign of life as its end, and a message saying when the
    process ended and how far the job got. Jobs of live processes are not touched.
    """
    now = now or utc_now()
    marked: list[JobRecord] = []
    for row in SyncJob.select().where(SyncJob.status == JobStatus.RUNNING.value).order_by(SyncJob.id):
        last = row.heartbeat_at or row.started_at
        state = _state(row)
        if state is Liveness.ALIVE or (state is Liveness.UNKNOWN and now - last <= stale_after):
            continue
        message = interrupted_message(
            last,
            sum(getattr(row, name) for name in COUNTERS),
            row.total,
            host=None if state is Liveness.GONE else row.host,
            stale_after=stale_after,
        )
        # Only if nothing moved since it was read: a heartbeat in between means the job lives.
        same_beat = (
            SyncJob.heartbeat_at.is_null() if row.heartbeat_at is None else SyncJob.heartbeat_at == row.heartbeat_at
        )
        updated = (
            SyncJob.update(status=JobStatus.INTERRUPTED.value, finished_at=last, message=message)
            .where((SyncJob.id == row.id) & (SyncJob.status == JobStatus.RUNNING.value) & same_beat)
            .execute()
        )
        if updated:
            marked.append(get_job(row.id))
    return marked


def interrupted_message(
    last_sign: datetime, done: int, total: int | None, *, host: str | None = None, stale_after: timedelta = STALE_AFTER
) -> str:
    """The log's sentence for an interrupted job, e.g. "Interrupted: the bc-tui process ended at
    about 07:45 (last sign of life) after 1,200 of 5,000 records."

    ``host`` set means the process could not be examined (another host) and was given up on
    because its heartbeat is older than ``stale_after``.
    """
    when = _local(last_sign)
    progress = f"{done:,} of {total:,} records" if total else f"{done:,} records"
    if host is None:
        return f"Interrupted: the bc-tui process ended at about {when} (last sign of life) after {progress}."
    minutes = max(1, round(stale_after.total_seconds() / 60))
    return (
        f"Interrupted: the bc-tui process on {host} gave no sign of life since about {when} "
        f"(more than {minutes} minutes), after {progress}."
    )


def settleable_intents(mapping: str | None = None) -> list[CreateIntentRecord]:
    """The pending create intents no running job owns: those the next job on their mapping settles.

    Call :func:`mark_interrupted_jobs` first, so a dead job's intents are no longer "running".
    """
    running = {row.id for row in SyncJob.select(SyncJob.id).where(SyncJob.status == JobStatus.RUNNING.value)}
    return [intent for intent in pending_intents(mapping) if intent.job_id is None or intent.job_id not in running]


def intents_of_other_running_jobs(intents: Sequence[CreateIntentRecord], job_id: int) -> set[int]:
    """The ids of these intents that a running job other than ``job_id`` owns: a process that is
    alive is creating their records right now."""
    owners = {intent.job_id for intent in intents if intent.job_id is not None and intent.job_id != job_id}
    if not owners:
        return set()
    running = {
        row.id
        for row in SyncJob.select(SyncJob.id).where(
            SyncJob.id.in_(list(owners)) & (SyncJob.status == JobStatus.RUNNING.value)
        )
    }
    return {intent.id for intent in intents if intent.job_id in running}


def interrupted_jobs(*, days: int = 7, limit: int = 20) -> list[JobRecord]:
    """The jobs marked interrupted that started in the last ``days`` days, newest first."""
    query = (
        SyncJob.select(SyncJob.id)
        .where(
            (SyncJob.status == JobStatus.INTERRUPTED.value) & (SyncJob.started_at >= utc_now() - timedelta(days=days))
        )
        .order_by(SyncJob.started_at.desc(), SyncJob.id.desc())
        .limit(limit)
    )
    return [get_job(row.id) for row in query]


def _state(row: SyncJob) -> Liveness:
    if row.host is None or row.pid is None:
        return Liveness.UNKNOWN  # a job from before bc-tui recorded its process: only time tells
    return liveness(ProcessIdentity(host=row.host, pid=row.pid, started=row.process_started or ""))


def _local(moment: datetime) -> str:
    """``07:45`` today, else ``2024-05-01 07:45``, in this machine's local time."""
    local = moment.astimezone()
    today = utc_now().astimezone().date()
    return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")
