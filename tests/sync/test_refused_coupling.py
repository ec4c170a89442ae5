"""A coupling that is refused (one-to-one) is a failed record in the log, not a crashed job."""

from __future__ import annotations

import pytest
from sync_demo import customers_with_twin

from bc_tui.store import jobs
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.sync.couple import couple_record
from bc_tui.sync.errors import SyncError
from bc_tui.sync.session import SyncSession


async def test_a_refused_coupling_is_logged_as_failed_with_its_reason(session: SyncSession, sandbox_app) -> None:
    (first, account_a), (second, account_b) = customers_with_twin(sandbox_app)[:2]
    await couple_record(session, "CUSTOMER", first["id"], dataverse_id=account_a["accountid"])

    with pytest.raises(SyncError, match="is already coupled to the Dataverse account") as refused:
        await couple_record(session, "CUSTOMER", first["id"], dataverse_id=account_b["accountid"])
    with pytest.raises(SyncError, match="is already coupled to the Business Central customer"):
        await couple_record(session, "CUSTOMER", second["id"], dataverse_id=account_a["accountid"])

    coupling_jobs = [job for job in jobs.list_jobs(limit=10) if job.type is JobType.COUPLING]
    assert len(coupling_jobs) == 3
    assert [job.status for job in coupling_jobs] == [JobStatus.FINISHED] * 3
    latest_first = sorted(coupling_jobs, key=lambda job: job.id, reverse=True)
    assert [(job.coupled, job.failed) for job in latest_first] == [(0, 1), (0, 1), (1, 0)]
    [error] = jobs.job_errors(latest_first[1].id)
    assert error.message == str(refused.value)
    assert error.bc_id == first["id"] and error.dataverse_id == account_b["accountid"]
