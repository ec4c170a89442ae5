"""One conflict state everywhere (docs/coupling-and-sync.md "A conflict's state"): a conflict is remembered
as a conflict, not a failure; it is listed and logged once; resolving it in any direction clears
it from both directions of its coupling."""

from __future__ import annotations

from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.sync_state import SyncState
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_coupling
from bc_tui.store.records import CouplingRecord, SyncResult, SyncResultUpdate
from bc_tui.store.sync_state import record_sync_result
from bc_tui.sync.bc_list import BcList
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.modified import synchronize_modified
from bc_tui.sync.preview import preview_sync
from bc_tui.sync.resolve import ProblemKind, errors_overview, synchronize_couplings
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_one
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


async def _conflicting(session: SyncSession, sandbox_app: Starlette) -> CouplingRecord:
    """A coupled customer whose City was changed differently on both sides, found by `sync --modified`."""
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")
    return pair


async def _list_state(session: SyncSession, bc_id: str) -> SyncState | None:
    rows = await BcList(lambda: session, MAPPING, ListQuery(coupled=CoupledFilter.COUPLED)).page(0, 50)
    return next(row.state for row in rows if row.key == bc_id)


async def test_a_conflict_found_by_sync_modified_is_one_conflict_everywhere(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pair = await _conflicting(session, sandbox_app)

    summary = await synchronize_modified(session, MAPPING)

    # Both passes see the record; it is reported once, as a conflict, not as a failure.
    assert [(r.bc_id, r.outcome) for r in summary.results] == [(pair.bc_id, Outcome.CONFLICT)]
    assert summary.count(Outcome.CONFLICT) == 1 and summary.count(Outcome.FAILED) == 0
    assert summary.conflicts == summary.results and summary.failed == []
    assert "1 record is a conflict" in summary.message and "0 records failed" in summary.message
    job = jobs.get_job(summary.job_id)
    assert (job.conflicts, job.failed) == (1, 0)
    assert len(jobs.job_errors(summary.job_id)) == 1
    # The coupling remembers a conflict; neither side was written.
    coupling = get_coupling(pair.id)
    assert SyncResult.CONFLICT in (coupling.to_dataverse_result, coupling.from_dataverse_result)
    assert SyncResult.FAILURE not in (coupling.to_dataverse_result, coupling.from_dataverse_result)
    assert coupling.conflict and not coupling.failed
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Springfield"
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Shelbyville"
    # The errors list has it once, as a conflict; the list and the card say conflict too.
    rows = await errors_overview(session)
    assert [(row.coupling_id, row.kind) for row in rows] == [(pair.id, ProblemKind.CONFLICT)]
    assert "City changed on both sides" in rows[0].error
    assert await _list_state(session, pair.bc_id) is SyncState.CONFLICT
    assert (await preview_sync(session, MAPPING, pair.bc_id)).state is SyncState.CONFLICT


async def test_a_conflict_resolved_on_the_errors_screen_clears_both_directions(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pair = await _conflicting(session, sandbox_app)
    await synchronize_modified(session, MAPPING)

    # Dataverse wins: the get succeeds, and the conflict its send pass found is settled too.
    [summary] = await synchronize_couplings(session, [pair.id], GET)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
    coupling = get_coupling(pair.id)
    assert (coupling.to_dataverse_result, coupling.from_dataverse_result) == (SyncResult.SUCCESS, SyncResult.SUCCESS)
    assert not (coupling.conflict or coupling.failed or coupling.skipped)
    assert coupling.from_dataverse_error is None and coupling.to_dataverse_error is None
    assert await errors_overview(session) == []
    assert await _list_state(session, pair.bc_id) is SyncState.SYNCED
    assert (await preview_sync(session, MAPPING, pair.bc_id)).state is SyncState.SYNCED
    # Nothing is left to retry: the next run of modified records finds nothing to do.
    again = await synchronize_modified(session, MAPPING)
    assert again.results == []


async def test_a_conflict_resolved_by_a_merge_with_a_chosen_winner_clears_it(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pair = await _conflicting(session, sandbox_app)
    await synchronize_modified(session, MAPPING)

    merged = await synchronize_one(session, MAPPING, pair.bc_id, MERGE, choices={"City": GET})

    assert merged.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
    coupling = get_coupling(pair.id)
    assert not (coupling.conflict or coupling.failed)
    assert await errors_overview(session) == []


async def test_a_success_clears_the_other_directions_conflict_but_not_its_failure(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    """A conflict is a state of the pair, settled by any success; a failure to write one side
    says something about that side's values and stays until that direction succeeds."""
    conflicted, failed = await coupled_customers(session, sandbox_app, 2)
    record_sync_result(SyncResultUpdate(conflicted.id, GET, SyncResult.CONFLICT, error="City changed on both sides."))
    record_sync_result(SyncResultUpdate(failed.id, GET, SyncResult.FAILURE, error="BC refused the city."))
    assert {row.kind for row in await errors_overview(session)} == {ProblemKind.CONFLICT, ProblemKind.FAILED}

    for pair in (conflicted, failed):
        record_sync_result(SyncResultUpdate(pair.id, SEND, SyncResult.SUCCESS))

    assert not get_coupling(conflicted.id).conflict
    assert get_coupling(conflicted.id).from_dataverse_result is SyncResult.SUCCESS
    assert get_coupling(failed.id).from_dataverse_result is SyncResult.FAILURE
    assert [(row.coupling_id, row.kind) for row in await errors_overview(session)] == [(failed.id, ProblemKind.FAILED)]


async def test_the_same_conflict_twice_marks_the_coupling_skipped(session: SyncSession, sandbox_app: Starlette) -> None:
    pair = await _conflicting(session, sandbox_app)
    await synchronize_modified(session, MAPPING)

    again = await synchronize_modified(session, MAPPING)

    assert [r.outcome for r in again.results] == [Outcome.CONFLICT]
    assert "skipped for further synchronization" in (again.results[0].message or "")
    assert get_coupling(pair.id).skipped
    assert [row.kind for row in await errors_overview(session)] == [ProblemKind.SKIPPED]
