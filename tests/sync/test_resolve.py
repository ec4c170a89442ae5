"""The coupled-data synchronization errors (docs/coupling-and-sync.md "Deleted records and broken couplings", "The synchronization log and its errors"): list, retry, synchronize, restore, delete, find."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id, get_by_dataverse_id, get_coupling
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord, Side, SyncResult, SyncResultUpdate
from bc_tui.store.sync_state import mark_broken, record_sync_result
from bc_tui.sync.resolve import (
    ProblemKind,
    delete_survivor,
    errors_overview,
    find_for_deleted,
    remove_broken_couplings,
    restore_deleted,
    retry,
    synchronize_couplings,
)
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_one
from tests.sync.coupled_pairs import (
    MAPPING,
    account_row,
    bc_row,
    coupled_customers,
    edit_account,
    edit_bc,
    store_of,
)

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE


async def test_errors_overview_lists_skipped_failed_and_broken(
    session: SyncSession, sandbox_app: Starlette, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 4)
    make_skipped(pairs[0].id)
    record_sync_result(SyncResultUpdate(pairs[1].id, SEND, SyncResult.FAILURE, error="Dataverse refused it."))
    store_of(sandbox_app).delete("dv/accounts", pairs[2].dataverse_id)
    mark_broken(pairs[2].id, Side.DATAVERSE)

    rows = {row.coupling_id: row for row in await errors_overview(session)}

    assert set(rows) == {pairs[0].id, pairs[1].id, pairs[2].id}
    assert rows[pairs[0].id].kind is ProblemKind.SKIPPED
    failed = rows[pairs[1].id]
    assert (failed.kind, failed.error, failed.description) == (
        ProblemKind.FAILED,
        "Dataverse refused it.",
        "customer 20000 Trey Research",
    )
    assert failed.coupled_to.startswith("account Trey Research")
    broken = rows[pairs[2].id]
    assert (broken.kind, broken.record_exists, broken.coupled_record_exists) == (ProblemKind.BROKEN, True, False)
    assert "coupled to a deleted Dataverse record" in broken.error


async def test_retry_all_clears_skipped(
    session: SyncSession, sandbox_app: Starlette, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    for pair in pairs[:2]:
        make_skipped(pair.id)
    assert await retry(session, all=True, mapping_name=MAPPING) == 2
    assert not any(get_coupling(p.id).skipped for p in pairs)


async def test_synchronize_from_the_errors_screen_lets_the_chosen_side_win(
    session: SyncSession, sandbox_app: Starlette, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")
    make_skipped(pair.id)

    [summary] = await synchronize_couplings(session, [pair.id], GET)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
    coupling = get_coupling(pair.id)
    assert not coupling.skipped and coupling.from_dataverse_result is SyncResult.SUCCESS


async def test_restore_recreates_a_deleted_account_and_couples_it(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
    await synchronize_one(session, MAPPING, pair.bc_id, SEND)  # detects the broken coupling
    accounts = store_of(sandbox_app).count("dv/accounts")

    [summary] = await restore_deleted(session, [pair.id])

    assert summary.result_for(pair.bc_id).outcome is Outcome.INSERTED
    coupling = get_by_bc_id(MAPPING, pair.bc_id)
    assert coupling.dataverse_id != pair.dataverse_id and not coupling.broken
    account = account_row(sandbox_app, coupling.dataverse_id)
    assert account["name"] == bc_row(sandbox_app, pair.bc_id)["displayName"]
    assert store_of(sandbox_app).count("dv/accounts") == accounts + 1
    # The new pair starts in step: synchronizing it finds nothing to do.
    again = await synchronize_one(session, MAPPING, pair.bc_id, SEND)
    assert again.result_for(pair.bc_id).outcome is Outcome.UNCHANGED
    # Restoring again is a no-op: both records exist now.
    [twice] = await restore_deleted(session, [coupling.id])
    assert twice.result_for(pair.bc_id).outcome is Outcome.SKIPPED
    assert store_of(sandbox_app).count("dv/accounts") == accounts + 1


async def test_restore_recreates_a_deleted_customer(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    name = bc_row(sandbox_app, pair.bc_id)["displayName"]
    store_of(sandbox_app).delete("bc/customers", pair.bc_id)

    [summary] = await restore_deleted(session, [pair.id])

    assert summary.count(Outcome.INSERTED) == 1
    coupling = get_by_dataverse_id(MAPPING, pair.dataverse_id)
    assert coupling.bc_id != pair.bc_id
    assert bc_row(sandbox_app, coupling.bc_id)["displayName"] == name


async def test_delete_survivor_deletes_the_remaining_record_and_the_coupling(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 2)
    store_of(sandbox_app).delete("dv/accounts", pairs[0].dataverse_id)

    [summary] = await delete_survivor(session, [pairs[0].id, pairs[1].id])

    assert summary.result_for(pairs[0].bc_id).outcome is Outcome.DELETED
    assert bc_row(sandbox_app, pairs[0].bc_id) is None
    assert get_coupling(pairs[0].id) is None
    # Not broken: nothing is deleted.
    assert summary.result_for(pairs[1].bc_id).outcome is Outcome.SKIPPED
    assert bc_row(sandbox_app, pairs[1].bc_id) is not None
    assert account_row(sandbox_app, pairs[1].dataverse_id) is not None


async def test_find_for_deleted_and_remove_broken_couplings(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    store_of(sandbox_app).delete("bc/customers", pairs[1].bc_id)

    found = await find_for_deleted(session, MAPPING)

    assert [c.id for c in found] == [pairs[1].id]
    assert found[0].deleted_side is Side.BC
    assert await remove_broken_couplings(session, mapping_name=MAPPING) == 1
    assert get_coupling(pairs[1].id) is None
    assert get_coupling(pairs[0].id) is not None
    assert account_row(sandbox_app, pairs[1].dataverse_id) is not None  # records untouched
    [job] = jobs.list_jobs(job_type=JobType.UNCOUPLING)
    assert job.uncoupled == 1
