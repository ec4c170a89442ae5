"""The session's database thread (store/access.py): a use case's store calls run there, never on
the event loop's thread, whatever the database (file SQLite, in-memory SQLite)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.store import jobs
from bc_tui.store.access import THREAD_NAME_PREFIX
from bc_tui.store.coupling_queries import count_couplings, get_by_bc_id
from bc_tui.store.database import (
    QueryOnForbiddenThreadError,
    database_proxy,
    queries_forbidden_on_current_thread,
)
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.sync.create import create_in_dataverse
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.progress import JobRun
from bc_tui.sync.session import SyncSession, open_session
from bc_tui.sync.synchronize import synchronize_one
from tests.sync.coupled_pairs import MAPPING, account_row, active_customer_ids, edit_bc


def on_database_thread() -> tuple[int, str]:
    """The id and name of the thread this runs on."""
    return threading.get_ident(), threading.current_thread().name


async def test_a_guarded_thread_refuses_sql_and_the_database_thread_runs_it(session: SyncSession) -> None:
    with queries_forbidden_on_current_thread() as refused:
        with pytest.raises(QueryOnForbiddenThreadError, match="session.db"):
            count_couplings(MAPPING)
        assert len(refused) == 1 and "SELECT" in refused[0].upper()
        assert await session.db(count_couplings, MAPPING) == 0
    assert count_couplings(MAPPING) == 0  # outside the block the thread may query again


@pytest.mark.parametrize("in_memory", [False, True], ids=["sqlite-file", "sqlite-memory"])
async def test_a_sync_job_runs_its_store_calls_on_the_database_thread(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], database_url: str, in_memory: bool
) -> None:
    url = "sqlite:///:memory:" if in_memory else database_url
    profile = profile_from_sandbox_info(sandbox_info)
    with queries_forbidden_on_current_thread() as refused:
        async with open_session(profile, url, transport=asgi_transport(sandbox_app)) as session:
            ids = active_customer_ids(sandbox_app, 3)
            created = await create_in_dataverse(session, MAPPING, ids, allow_duplicates=True)
            assert created.count("inserted") == 3
            baseline = await synchronize_modified(session, MAPPING)
            assert baseline.count("failed") == 0
            edit_bc(sandbox_app, ids[0], city="Springfield")
            summary = await synchronize_one(session, MAPPING, ids[0], SyncDirection.TO_DATAVERSE)
            assert summary.count("modified") == 1

            ident, name = await session.db(on_database_thread)
            assert ident != threading.get_ident() and name.startswith(THREAD_NAME_PREFIX)
            assert session.db.ident == ident
            coupling = await session.db(get_by_bc_id, MAPPING, ids[0])
            assert coupling is not None and coupling.to_dataverse_job_id == summary.job_id
            assert (await session.db(jobs.get_job, summary.job_id)).modified == 1
        assert refused == []
    assert account_row(sandbox_app, coupling.dataverse_id)["address1_city"] == "Springfield"


def refuse_error_rows() -> None:
    """A trigger that fails every insert into the job log's errors, as a full disk would."""
    database_proxy.execute_sql(
        "CREATE TRIGGER refuse_error_rows BEFORE INSERT ON job_errors "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )


async def test_a_log_write_that_fails_on_the_database_thread_crashes_the_job(session: SyncSession) -> None:
    await session.db(refuse_error_rows)
    # The log writes inside the block fail on the database thread; the job crashes as the block ends.
    with pytest.raises(Exception, match="disk is full"):  # noqa: PT012
        async with JobRun(JobType.SYNCHRONIZATION, mapping=MAPPING, total=2, session=session) as run:
            run.record(Outcome.MODIFIED, bc_id="a", description="customer 1")
            run.record(Outcome.FAILED, "Customer 2 failed.", bc_id="b", description="customer 2")
    job = await session.db(jobs.get_job, run.job_id)
    assert job.status is JobStatus.CRASHED and run.summary.status is JobStatus.CRASHED
    assert "disk is full" in (job.message or "") and "rolled back" in (job.message or "")
