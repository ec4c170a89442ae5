"""Claims: which synchronization job is synchronizing which coupling right now.

Two jobs (a cron job and the TUI, or two CLI runs) must not both write one record: the second
would write from an ETag the first has just made stale and report a conflict nobody made. A
job therefore claims the couplings of a chunk before it reads and writes them, and releases
them once the chunk's results are stored.

A claim is honoured only while its job's status is "running" and for at most
:data:`CLAIM_LIFETIME`: a claim left behind by a job that finished, was cancelled, crashed, was
interrupted, or whose process died without a trace is taken over by the next job that asks.
Claiming a chunk is one upsert (``INSERT … ON CONFLICT DO UPDATE … WHERE``), so two jobs
racing for the same coupling on PostgreSQL get it once: the row lock of the conflicting claim
decides, and the loser sees the winner's claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import peewee

from bc_tui.store.database import atomic
from bc_tui.store.fields import utc_now
from bc_tui.store.models import CouplingClaim, SyncJob

#: After this long a claim no longer holds, even if its job still says "running": a chunk is
#: done in seconds, so a claim this old belongs to a process that died without closing its job.
CLAIM_LIFETIME = timedelta(minutes=15)

# Couplings per statement: a chunk of a job is at most a few hundred; this keeps any chunk
# under SQLite's and PostgreSQL's parameter limits (three values per claim).
_CHUNK = 300

_RUNNING = "running"

# A claim as read with its holder: coupling id, holding job id, and that job's type and start
# (both None when the job row was cleaned up: the join is an outer one).
_ClaimRow = tuple[int, int, str | None, datetime | None]


@dataclass(frozen=True)
class Holder:
    """The job that holds a claim this job could not get."""

    job_id: int
    job_type: str
    started_at: datetime


@dataclass(frozen=True)
class ClaimOutcome:
    """Which of the asked couplings this job now holds, and who holds the others."""

    claimed: frozenset[int]
    held: dict[int, Holder]


def claim(job_id: int, coupling_ids: Iterable[int]) -> ClaimOutcome:
    """Claim ``coupling_ids`` for the running job ``job_id``, as far as no other running job holds them.

    Couplings the job already holds stay claimed. Returns the claimed ids and, for the rest, the
    job holding each. One upsert and one read per few hundred couplings, in one transaction.
    """
    # Always in id order: two PostgreSQL transactions upserting overlapping keys in different
    # orders could deadlock on each other's row locks.
    wanted = sorted(set(coupling_ids))
    claimed: set[int] = set()
    held: dict[int, Holder] = {}
    if not wanted:
        return ClaimOutcome(frozenset(), {})
    now = utc_now()
    with atomic():
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            _upsert(job_id, chunk, now)
            query = (
                CouplingClaim.select(CouplingClaim.coupling_id, CouplingClaim.job_id, SyncJob.type, SyncJob.started_at)
                .join(SyncJob, peewee.JOIN.LEFT_OUTER, on=(SyncJob.id == CouplingClaim.job_id))
                .where(CouplingClaim.coupling_id.in_(chunk))
                .tuples()
            )
            # cast: peewee's stubs type a .tuples() query as still yielding model rows.
            rows = cast(Iterable[_ClaimRow], query)
            for coupling_id, holder_id, job_type, started_at in rows:
                if holder_id == job_id:
                    claimed.add(coupling_id)
                else:
                    held[coupling_id] = Holder(holder_id, job_type or "synchronization", _aware(started_at))
    return ClaimOutcome(frozenset(claimed), held)


def release(job_id: int, coupling_ids: Iterable[int] | None = None) -> int:
    """Give up the claims of ``job_id`` on ``coupling_ids`` (None: all of them); returns how many."""
    condition = CouplingClaim.job_id == job_id
    if coupling_ids is None:
        released_all: int = CouplingClaim.delete().where(condition).execute()
        return released_all
    ids = list(dict.fromkeys(coupling_ids))
    released = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        released += CouplingClaim.delete().where(condition & CouplingClaim.coupling_id.in_(chunk)).execute()
    return released


def _upsert(job_id: int, coupling_ids: Sequence[int], now: datetime) -> None:
    """Insert a claim per coupling; take over a claim only from this job itself, a job that is no
    longer running, or a claim older than :data:`CLAIM_LIFETIME`."""
    excluded = peewee.EXCLUDED
    running = SyncJob.select(SyncJob.id).where(SyncJob.status == _RUNNING)
    takeover = (
        (CouplingClaim.job_id == excluded.job_id)
        | CouplingClaim.job_id.not_in(running)
        | (CouplingClaim.claimed_at < now - CLAIM_LIFETIME)
    )
    rows = [{"coupling_id": i, "job_id": job_id, "claimed_at": now} for i in coupling_ids]
    (
        CouplingClaim.insert_many(rows)
        .on_conflict(
            conflict_target=[CouplingClaim.coupling_id],
            update={CouplingClaim.job_id: excluded.job_id, CouplingClaim.claimed_at: excluded.claimed_at},
            where=takeover,
        )
        .execute()
    )


def _aware(value: datetime | None) -> datetime:
    # A claim whose job row was cleaned up has no start time; "now" reads sensibly in a sentence.
    return value if value is not None else utc_now()
