"""A running job's heartbeat and counters reach the database while it runs, not only at its end."""

from __future__ import annotations

import asyncio

import pytest

from bc_tui.domain.outcomes import Outcome
from bc_tui.store import interrupted, jobs
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.sync.progress import JobRun
from bc_tui.sync.session import SyncSession


async def test_a_waiting_job_keeps_beating_with_its_counters(
    session: SyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interrupted, "HEARTBEAT_SECONDS", 0.05)  # not 5 s: keep the test fast
    async with JobRun(JobType.SYNCHRONIZATION, mapping="CUSTOMER", total=40, session=session) as run:
        first = jobs.get_job(run.job_id)
        assert (first.status, first.total) == (JobStatus.RUNNING, 40)  # the total is known at once
        run.record(Outcome.MODIFIED, bc_id="b1", description="customer 1")
        # The job now waits (as on a slow service): only the background task can write.
        # Polls the job's row in the database, which the heartbeat task writes.
        while (beat := jobs.get_job(run.job_id)).heartbeat_at == first.heartbeat_at or beat.modified == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        assert beat.heartbeat_at > first.heartbeat_at and beat.modified == 1 and beat.status is JobStatus.RUNNING
    ended = jobs.get_job(run.job_id)
    assert (ended.status, ended.modified, ended.total) == (JobStatus.FINISHED, 1, 40)
    last = ended.heartbeat_at
    await asyncio.sleep(0.2)  # a heartbeat task left behind would move it
    assert jobs.get_job(run.job_id).heartbeat_at == last
