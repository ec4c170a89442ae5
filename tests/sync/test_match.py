"""Match-Based Coupling (docs/coupling-and-sync.md "Match-based coupling") against the in-process sandbox."""

from __future__ import annotations

import pytest
from sync_demo import active_customers, customers_with_twin, key, rows

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.matching import UNMATCHED, MatchCriterion
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import count_couplings, get_by_bc_id, get_by_dataverse_id, iter_couplings
from bc_tui.store.create_intents import pending_intents
from bc_tui.store.jobs import JobType
from bc_tui.sync.couple import couple_record
from bc_tui.sync.errors import SyncError
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import SyncSession


async def test_default_criteria_couple_unique_matches_and_report_the_rest(session: SyncSession, sandbox_app) -> None:
    summary = await match_based_coupling(session, "CUSTOMER")
    accounts = {a["accountid"]: a for a in rows(sandbox_app, "dv/accounts")}
    customers = {c["id"]: c for c in active_customers(sandbox_app)}
    coupled = list(iter_couplings("CUSTOMER"))
    assert len(coupled) == summary.counters["coupled"] >= len(customers_with_twin(sandbox_app))
    for coupling in coupled:
        customer, account = customers[coupling.bc_id], accounts[coupling.dataverse_id]
        assert key(customer["displayName"]) == key(account["name"]) or key(customer["email"]) == key(
            account["emailaddress1"]
        )
        # The number and name for the lists are cached with the coupling, in the same write.
        assert (coupling.bc_number, coupling.display_name) == (customer["number"], customer["displayName"])
    unmatched = [r for r in summary.results if r.outcome is Outcome.UNMATCHED]
    assert unmatched and not [r for r in summary.results if r.outcome is Outcome.FAILED]
    assert len(unmatched) + len(coupled) == len(customers)
    assert unmatched and all(UNMATCHED in r.message for r in unmatched)
    job = jobs.get_job(summary.job_id)
    assert (job.type, job.coupled, job.unmatched, job.failed) == (
        JobType.MATCH_BASED_COUPLING,
        len(coupled),
        len(unmatched),
        0,
    )
    assert summary.message.endswith(f", {len(unmatched)} unmatched.")
    assert len(jobs.job_errors(summary.job_id)) == len(unmatched)


async def test_only_uncoupled_records_take_part(session: SyncSession, sandbox_app) -> None:
    (customer, account), (other, _) = customers_with_twin(sandbox_app)[:2]
    # The account that matches customer by name is taken by someone else already.
    await couple_record(session, "CUSTOMER", other["id"], dataverse_id=account["accountid"])
    summary = await match_based_coupling(session, "CUSTOMER")
    assert summary.result_for(other["id"]) is None  # coupled BC records are passed over
    assert get_by_dataverse_id("CUSTOMER", account["accountid"]).bc_id == other["id"]
    coupling = get_by_bc_id("CUSTOMER", customer["id"])
    assert coupling is None or coupling.dataverse_id != account["accountid"]
    again = await match_based_coupling(session, "CUSTOMER")
    assert again.counters.get("coupled", 0) == 0


async def test_case_sensitive_criterion_leaves_case_variants_unmatched(session: SyncSession, sandbox_app) -> None:
    name = session.mapping("CUSTOMER").field_by_label("Name")
    loose = await match_based_coupling(session, "CUSTOMER", [MatchCriterion(name)])
    loose_count = loose.counters["coupled"]
    await _uncouple_all(session)
    strict = await match_based_coupling(session, "CUSTOMER", [MatchCriterion(name, case_sensitive=True)])
    assert strict.counters["coupled"] <= loose_count
    for coupling in iter_couplings("CUSTOMER"):
        account = sandbox_app.state.store.get("dv/accounts", coupling.dataverse_id)
        customer = sandbox_app.state.store.get("bc/customers", coupling.bc_id)
        assert account["name"].strip() == customer["displayName"].strip() or "  " in account["name"]


async def test_no_criteria_is_refused(session: SyncSession) -> None:
    with pytest.raises(SyncError, match="You must specify which fields of the table mapping CUSTOMER should be used"):
        await match_based_coupling(session, "CUSTOMER", [])
    assert jobs.list_jobs(job_type=JobType.MATCH_BASED_COUPLING) == []


async def test_create_new_creates_the_unmatched(session: SyncSession, sandbox_app) -> None:
    before = sandbox_app.state.store.count("dv/accounts")
    summary = await match_based_coupling(session, "CUSTOMER", create_new=True)
    customers = active_customers(sandbox_app)
    assert count_couplings("CUSTOMER") == len(customers)
    assert summary.counters["coupled"] + summary.counters["inserted"] == len(customers)
    assert sandbox_app.state.store.count("dv/accounts") == before + summary.counters["inserted"]
    assert pending_intents() == []


async def test_sync_after_coupling(session: SyncSession, sandbox_app) -> None:
    pytest.importorskip("bc_tui.sync.synchronize")
    summary = await match_based_coupling(session, "CUSTOMER", sync_after=SyncDirection.TO_DATAVERSE)
    assert summary.counters["coupled"] > 0
    sync_jobs = jobs.list_jobs(job_type=JobType.SYNCHRONIZATION)
    assert sync_jobs and all(job.direction == "to-dataverse" for job in sync_jobs)
    assert sum(job.modified + job.unchanged for job in sync_jobs) == summary.counters["coupled"]
    for coupling in iter_couplings("CUSTOMER"):
        customer = sandbox_app.state.store.get("bc/customers", coupling.bc_id)
        account = sandbox_app.state.store.get("dv/accounts", coupling.dataverse_id)
        assert account["telephone1"] == customer["phoneNumber"] and account["address1_city"] == customer["city"]


async def _uncouple_all(session: SyncSession) -> None:
    from bc_tui.sync.uncouple import delete_couplings

    await delete_couplings(session, "CUSTOMER", all_of_mapping=True)
