"""The read model the TUI and the CLI share: list rows with their coupling and sync state, the
preview's pair state, and the synchronization log as the screens read it."""

from __future__ import annotations

from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.sync_state import SyncState
from bc_tui.sync.bc_list import BcList
from bc_tui.sync.dataverse_list import DataverseList
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.logged_jobs import combine_summaries, logged_summary, recent_jobs, record_jobs
from bc_tui.sync.preview import preview_sync
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_one
from tests.sync.coupled_pairs import MAPPING, coupled_customers, edit_account, edit_bc


async def test_list_rows_carry_the_one_sync_state_the_preview_has(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    edit_bc(sandbox_app, pairs[0].bc_id, city="Springfield")
    edit_account(sandbox_app, pairs[1].dataverse_id, address1_city="Shelbyville")

    coupled = BcList(lambda: session, MAPPING, ListQuery(coupled=CoupledFilter.COUPLED))
    assert await coupled.count() == 3
    rows = {row.key: row for row in await coupled.page(0, 10)}
    expected = [SyncState.CHANGED_IN_BC, SyncState.CHANGED_IN_DATAVERSE, SyncState.SYNCED]
    assert [rows[p.bc_id].state for p in pairs] == expected
    assert all(rows[p.bc_id].coupled and rows[p.bc_id].counterpart for p in pairs)
    for pair, state in zip(pairs, expected, strict=True):
        assert (await preview_sync(session, MAPPING, pair.bc_id)).state is state

    accounts = DataverseList(lambda: session, MAPPING, ListQuery(sort="Name", coupled=CoupledFilter.COUPLED))
    numbers = {row.key: row.counterpart for row in await accounts.page(0, 10)}
    assert {numbers[p.dataverse_id] for p in pairs} == {p.bc_number for p in pairs}


async def test_a_list_without_a_session_is_empty(session: SyncSession) -> None:
    nothing = BcList(lambda: None, MAPPING)
    assert await nothing.count() == 0 and await nothing.page(0, 10) == []


async def test_the_log_as_the_screens_read_it(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    first = await synchronize_one(session, MAPPING, pair.bc_id, SyncDirection.TO_DATAVERSE)
    edit_bc(sandbox_app, pair.bc_id, city="Shelbyville")
    second = await synchronize_one(session, MAPPING, pair.bc_id, SyncDirection.TO_DATAVERSE)

    assert [job.id for job in await recent_jobs(session, 2)] == [second.job_id, first.job_id]
    assert (await record_jobs(session, pair.bc_id, [MAPPING], 10))[0].id == second.job_id
    logged = await logged_summary(session, second.job_id, "not used")
    assert logged.job_id == second.job_id and logged.counters == {"modified": 1}
    both = combine_summaries([first, second])
    assert both.counters["modified"] == 2 and both.job_id == first.job_id
