"""Delete Coupling (docs/coupling-and-sync.md "Delete Coupling"): the coupling goes, both records stay as they were."""

from __future__ import annotations

import pytest
from sync_demo import customers_with_twin, customers_without_account

from bc_tui.domain.outcomes import Outcome
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import count_couplings, get_by_bc_id
from bc_tui.store.jobs import JobType
from bc_tui.sync.couple import couple_record
from bc_tui.sync.errors import SyncError
from bc_tui.sync.session import SyncSession
from bc_tui.sync.uncouple import delete_couplings


async def _couple_three(session: SyncSession, sandbox_app) -> list[tuple[dict, dict]]:
    pairs = customers_with_twin(sandbox_app)[:3]
    for customer, account in pairs:
        await couple_record(session, "CUSTOMER", customer["id"], dataverse_id=account["accountid"])
    return pairs


async def test_delete_some_couplings_touches_neither_record(session: SyncSession, sandbox_app) -> None:
    pairs = await _couple_three(session, sandbox_app)
    store = sandbox_app.state.store
    before = [
        (dict(store.get("bc/customers", c["id"])), dict(store.get("dv/accounts", a["accountid"]))) for c, a in pairs
    ]
    stranger = customers_without_account(sandbox_app)[0]
    summary = await delete_couplings(
        session, "CUSTOMER", [pairs[0][0]["id"], pairs[1][0]["id"].upper(), stranger["id"]]
    )
    assert summary.counters == {"uncoupled": 2, "skipped": 1}
    assert summary.result_for(stranger["id"]).outcome is Outcome.SKIPPED
    assert [get_by_bc_id("CUSTOMER", c["id"]) is None for c, _ in pairs] == [True, True, False]
    after = [(store.get("bc/customers", c["id"]), store.get("dv/accounts", a["accountid"])) for c, a in pairs]
    assert after == before
    job = jobs.get_job(summary.job_id)
    assert (job.type, job.uncoupled, job.skipped) == (JobType.UNCOUPLING, 2, 1)


async def test_delete_by_dataverse_id_and_all_of_mapping(session: SyncSession, sandbox_app) -> None:
    pairs = await _couple_three(session, sandbox_app)
    one = await delete_couplings(session, "CUSTOMER", dataverse_ids=[pairs[0][1]["accountid"]])
    assert one.counters == {"uncoupled": 1}
    rest = await delete_couplings(session, "CUSTOMER", all_of_mapping=True)
    assert rest.counters == {"uncoupled": 2} and count_couplings("CUSTOMER") == 0
    assert jobs.get_job(rest.job_id).message == "2 couplings deleted."


async def test_nothing_named_is_refused(session: SyncSession) -> None:
    with pytest.raises(SyncError, match="Choose the records"):
        await delete_couplings(session, "CUSTOMER")
