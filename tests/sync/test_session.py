"""The session, the record readers and the job run against the in-process sandbox."""

from __future__ import annotations

import asyncio

import pytest

from bc_tui.config import profile_from_sandbox_info
from bc_tui.connectors import AuthenticationFailed
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.store import jobs
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.sync import records
from bc_tui.sync.errors import SyncError
from bc_tui.sync.progress import JobRun, Progress
from bc_tui.sync.session import SyncSession, check_connection, open_session
from bc_tui.sync.sides import BC_SIDE

ID_CHUNK_MIN = 40


async def test_session_loads_mappings_and_connects(session: SyncSession) -> None:
    assert set(session.mappings) == {"CUSTOMER", "CONTACT"}
    assert session.mapping("CUSTOMER").dataverse_table == "accounts"
    with pytest.raises(SyncError, match="no table mapping called NOPE"):
        session.mapping("NOPE")
    await check_connection(session)


async def test_mapping_overrides_are_applied(sandbox_app, sandbox_info, database_url) -> None:
    profile = profile_from_sandbox_info(sandbox_info)
    overrides = {"CUSTOMER": {"sync_only_coupled": False}}
    async with open_session(
        profile, database_url, transport=asgi_transport(sandbox_app), mapping_overrides=overrides
    ) as s:
        assert s.mapping("CUSTOMER").sync_only_coupled is False


async def test_bad_secret_fails_check_with_plain_message(sandbox_app, sandbox_info, database_url) -> None:
    profile = profile_from_sandbox_info({**sandbox_info, "client_secret": "wrong"})
    async with open_session(profile, database_url, transport=asgi_transport(sandbox_app)) as s:
        with pytest.raises(AuthenticationFailed) as caught:
            await check_connection(s)
    assert "Traceback" not in str(caught.value) and str(caught.value)


async def test_fetch_by_ids_in_chunks(session: SyncSession, sandbox_app) -> None:
    mapping = session.mapping("CUSTOMER")
    rows = list(sandbox_app.state.store.rows("bc/customers"))
    ids = [r["id"] for r in rows] + ["00000000-0000-0000-0000-000000000000"]
    found = await records.fetch_bc(session, mapping, ids)
    assert set(found) == {r["id"].lower() for r in rows}
    one = found[rows[0]["id"].lower()]
    assert one["@odata.etag"] and one["displayName"] == rows[0]["displayName"] and "lastModifiedDateTime" in one

    accounts = list(sandbox_app.state.store.rows("dv/accounts"))
    got = await records.fetch_dataverse(session, mapping, [a["accountid"].upper() for a in accounts])
    assert len(got) == len(accounts) > ID_CHUNK_MIN and all(
        r["@odata.etag"] and "modifiedon" in r for r in got.values()
    )


async def test_get_returns_none_when_missing(session: SyncSession, sandbox_app) -> None:
    mapping = session.mapping("CUSTOMER")
    assert await records.get_bc(session, mapping, "00000000-0000-0000-0000-000000000001") is None
    assert await records.get_dataverse(session, mapping, "00000000-0000-0000-0000-000000000001") is None
    first = next(iter(sandbox_app.state.store.rows("bc/customers")))
    assert (await records.get_bc(session, mapping, first["id"]))["number"] == first["number"]


async def test_iter_applies_table_filters(session: SyncSession, sandbox_app) -> None:
    mapping = session.mapping("CUSTOMER")
    bc = [r async for r in records.iter_records(BC_SIDE, session, mapping)]
    expected = [r for r in sandbox_app.state.store.rows("bc/customers") if r["blocked"].strip() == ""]
    assert len(bc) == len(expected) < sandbox_app.state.store.count("bc/customers")
    everything = [r async for r in records.iter_records(BC_SIDE, session, mapping, table_filter=False)]
    assert len(everything) == sandbox_app.state.store.count("bc/customers")
    contacts = [r async for r in records.iter_records(BC_SIDE, session, session.mapping("CONTACT"))]
    assert contacts and all(c["type"] == "Person" for c in contacts)


async def test_job_run_counts_logs_and_reports(session: SyncSession) -> None:
    seen: list[Progress] = []
    async with JobRun(JobType.COUPLING, mapping="CUSTOMER", total=3, progress=seen.append) as run:
        run.record(Outcome.COUPLED, bc_id="A", description="customer 1")
        run.record(Outcome.FAILED, "Customer 2 failed; fix it.", bc_id="B", description="customer 2")
        run.record(Outcome.SKIPPED, "Customer 3 is not coupled.", bc_id="C", description="customer 3")
    summary = run.summary
    assert summary.status is JobStatus.FINISHED
    assert summary.counters == {"coupled": 1, "failed": 1, "skipped": 1}
    job = jobs.get_job(summary.job_id)
    assert (job.coupled, job.failed, job.skipped, job.status) == (1, 1, 1, JobStatus.FINISHED)
    assert [e.message for e in jobs.job_errors(summary.job_id)] == [
        "Customer 2 failed; fix it.",
        "Customer 3 is not coupled.",
    ]
    assert seen[-1] == Progress(job_id=summary.job_id, total=3, done=3, failed=1, skipped=1)


async def test_job_run_marks_cancelled_and_crashed(session: SyncSession) -> None:
    started = asyncio.Event()

    async def endless(run_holder: list[JobRun]) -> None:
        async with JobRun(JobType.SYNCHRONIZATION, mapping="CUSTOMER") as run:
            run_holder.append(run)
            started.set()
            await asyncio.sleep(3600)

    holder: list[JobRun] = []
    task = asyncio.create_task(endless(holder))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert jobs.get_job(holder[0].job_id).status is JobStatus.CANCELLED

    with pytest.raises(ZeroDivisionError):
        async with JobRun(JobType.SYNCHRONIZATION) as crashing:
            raise ZeroDivisionError("a crash inside the job")
    assert jobs.get_job(crashing.job_id).status is JobStatus.CRASHED


async def test_fetch_splits_ids_into_several_filters(session: SyncSession, sandbox_app, monkeypatch) -> None:
    monkeypatch.setattr(records, "ID_CHUNK", 7)  # 50 customers → 8 concurrent filtered reads
    ids = [r["id"] for r in sandbox_app.state.store.rows("bc/customers")]
    found = await records.fetch_bc(session, session.mapping("CUSTOMER"), ids)
    assert len(found) == len(ids)
