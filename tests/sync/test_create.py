"""Create the counterpart and couple it (docs/coupling-and-sync.md "Creating the counterpart", "Set Up Coupling" Create New, "Table and field mappings" contacts), crash-safe and duplicate-safe."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sync_demo import (
    blocked_customer,
    customers_with_twin,
    customers_without_account,
    dataverse_only_accounts,
    persons_of,
    rows,
)

from bc_tui.connectors import BcCustomer, DataverseAccount
from bc_tui.domain.mappings import Direction
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import count_couplings, get_by_bc_id, get_by_dataverse_id
from bc_tui.store.create_intents import begin_create_intent, pending_intents
from bc_tui.store.jobs import JobType
from bc_tui.store.records import Side
from bc_tui.sync.couple import couple_record
from bc_tui.sync.create import create_in_bc, create_in_dataverse, create_in_job
from bc_tui.sync.errors import SyncError
from bc_tui.sync.job_log import JobLog
from bc_tui.sync.refind import MARGIN
from bc_tui.sync.session import SyncSession
from bc_tui.sync.settle import resume_pending_creates
from bc_tui.sync.sides import BC_SIDE
from tests.sandbox_setups import manual_numbers


async def test_creates_accounts_in_one_batch_and_couples_them(session: SyncSession, sandbox_app) -> None:
    customers = customers_without_account(sandbox_app)[:4]
    before = sandbox_app.state.store.count("dv/accounts")
    summary = await create_in_dataverse(session, "CUSTOMER", [c["id"] for c in customers])
    assert summary.counters == {"inserted": 4}
    assert sandbox_app.state.store.count("dv/accounts") == before + 4
    for customer in customers:
        coupling = get_by_bc_id("CUSTOMER", customer["id"])
        account = sandbox_app.state.store.get("dv/accounts", coupling.dataverse_id)
        assert (account["name"], account["address1_city"], account["customertypecode"]) == (
            customer["displayName"],
            customer["city"],
            3,
        )
        assert coupling.bc_number == customer["number"]
    assert pending_intents() == []
    job = jobs.get_job(summary.job_id)
    assert (job.type, job.inserted, job.direction) == (JobType.CREATION, 4, "to-dataverse")


async def test_running_again_never_creates_twice(session: SyncSession, sandbox_app) -> None:
    ids = [c["id"] for c in customers_without_account(sandbox_app)[:3]]
    await create_in_dataverse(session, "CUSTOMER", ids)
    count = sandbox_app.state.store.count("dv/accounts")
    again = await create_in_dataverse(session, "CUSTOMER", ids)
    assert again.counters == {"skipped": 3}
    assert all("already coupled to Dataverse" in r.message for r in again.results)
    assert sandbox_app.state.store.count("dv/accounts") == count


async def test_refuses_to_duplicate_an_uncoupled_account_with_the_same_name(session: SyncSession, sandbox_app) -> None:
    customer, twin = customers_with_twin(sandbox_app)[0]
    count = sandbox_app.state.store.count("dv/accounts")
    summary = await create_in_dataverse(session, "CUSTOMER", [customer["id"]])
    [result] = summary.results
    assert result.outcome is Outcome.FAILED and f"account {twin['name']}" in result.message
    assert "Set Up Coupling or Match-Based Coupling" in result.message
    assert sandbox_app.state.store.count("dv/accounts") == count and pending_intents() == []
    forced = await create_in_dataverse(session, "CUSTOMER", [customer["id"]], allow_duplicates=True)
    assert forced.counters == {"inserted": 1} and sandbox_app.state.store.count("dv/accounts") == count + 1


async def test_missing_and_filtered_records_fail_with_reasons(session: SyncSession, sandbox_app) -> None:
    blocked = blocked_customer(sandbox_app)
    summary = await create_in_dataverse(session, "CUSTOMER", [blocked["id"], "00000000-0000-0000-0000-0000000000aa"])
    messages = [r.message for r in summary.results]
    assert any("outside the table filter of the table mapping CUSTOMER" in m for m in messages)
    assert any("no longer exists in Business Central" in m for m in messages)
    assert len(jobs.job_errors(summary.job_id)) == 2


async def test_contact_gets_the_account_of_its_coupled_company(session: SyncSession, sandbox_app) -> None:
    customer = customers_without_account(sandbox_app)[0]
    persons = persons_of(sandbox_app, customer)
    refused = await create_in_dataverse(session, "CONTACT", [p["id"] for p in persons])
    assert refused.counters == {"failed": len(persons)}
    company = refused.results[0].message
    assert f"its company {persons[0]['companyNumber']} {customer['displayName']} is not coupled" in company
    await couple_record(session, "CUSTOMER", customer["id"], create_new=True)
    account_id = get_by_bc_id("CUSTOMER", customer["id"]).dataverse_id
    created = await create_in_dataverse(session, "CONTACT", [p["id"] for p in persons])
    assert created.counters == {"inserted": len(persons)}
    for person in persons:
        contact = sandbox_app.state.store.get("dv/contacts", get_by_bc_id("CONTACT", person["id"]).dataverse_id)
        assert contact["_parentcustomerid_value"] == account_id
        assert f"{contact['firstname']} {contact['lastname']}" == person["displayName"]


async def test_create_in_bc_takes_the_next_number_of_the_series(session: SyncSession, sandbox_app) -> None:
    # The sandbox refuses numbers typed in, as many production tenants do: a create that named
    # its own number would fail here.
    assert sandbox_app.state.sandbox_settings.bc_refuse_manual_numbers
    numbers_before = {c["number"] for c in rows(sandbox_app, "bc/customers")}
    accounts = dataverse_only_accounts(sandbox_app)[:3]
    summary = await create_in_bc(session, "CUSTOMER", [a["accountid"] for a in accounts])
    assert summary.counters == {"inserted": 3}
    numbers = []
    for account in accounts:
        coupling = get_by_dataverse_id("CUSTOMER", account["accountid"])
        customer = sandbox_app.state.store.get("bc/customers", coupling.bc_id)
        assert customer["number"] == coupling.bc_number and customer["number"] not in numbers_before
        assert customer["displayName"] == account["name"] and customer["email"] == account["emailaddress1"]
        numbers.append(customer["number"])
    # The series' next numbers, one after the other (C + five digits, step 10).
    assert [int(n[1:]) for n in numbers] == [int(numbers[0][1:]) + 10 * i for i in range(3)]
    assert pending_intents() == []
    again = await create_in_bc(session, "CUSTOMER", [a["accountid"] for a in accounts])
    assert again.counters == {"skipped": 3}


async def test_create_contact_in_bc_under_the_coupled_company(session: SyncSession, sandbox_app) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    contact = next(c for c in rows(sandbox_app, "dv/contacts") if c["_parentcustomerid_value"] == account["accountid"])
    refused = await create_in_bc(session, "CONTACT", [contact["contactid"]])
    assert refused.counters == {"failed": 1} and "Couple the account first" in refused.results[0].message
    await create_in_bc(session, "CUSTOMER", [account["accountid"]])
    # BC makes a company contact for each customer; the sandbox's API does not, so add it as BC would.
    customer_id = get_by_dataverse_id("CUSTOMER", account["accountid"]).bc_id
    customer = sandbox_app.state.store.get("bc/customers", customer_id)
    company_id = str(uuid.uuid4())
    sandbox_app.state.store.insert(
        "bc/contacts",
        company_id,
        {
            "id": company_id,
            "number": "CTX00001",
            "type": "Company",
            "displayName": customer["displayName"],
            "companyNumber": "CTX00001",
            "companyName": customer["displayName"],
            "_company": customer["_company"],
        },
    )
    created = await create_in_bc(session, "CONTACT", [contact["contactid"]])
    assert created.counters == {"inserted": 1}
    person = sandbox_app.state.store.get("bc/contacts", get_by_dataverse_id("CONTACT", contact["contactid"]).bc_id)
    assert (person["type"], person["companyNumber"]) == ("Person", "CTX00001")
    assert person["displayName"].startswith(contact["firstname"]) and person["displayName"].endswith(
        contact["lastname"]
    )


async def test_an_interrupted_create_is_adopted_not_repeated(session: SyncSession, sandbox_app) -> None:
    first, second = customers_without_account(sandbox_app)[:2]
    # A run that died after Dataverse stored the account but before coupling it:
    planned = str(uuid.uuid4())
    begin_create_intent("CUSTOMER", Side.BC, first["id"], planned)
    await session.dataverse.create(
        DataverseAccount, {"accountid": planned, "name": first["displayName"], "customertypecode": 3}
    )
    # ... and one that died before sending anything:
    begin_create_intent("CUSTOMER", Side.BC, second["id"], str(uuid.uuid4()))
    count = sandbox_app.state.store.count("dv/accounts")
    summary = await create_in_dataverse(session, "CUSTOMER", [first["id"], second["id"]])
    # Before the job starts, a creation job of its own settles the intents: the first account
    # is adopted, the second intent dropped; the job then creates only the second.
    settled = jobs.get_job(summary.job_id - 1)
    assert (settled.type, settled.inserted, settled.skipped) == (JobType.CREATION, 1, 1)
    assert summary.counters == {"skipped": 1, "inserted": 1}
    assert summary.result_for(first["id"]).outcome is Outcome.SKIPPED  # already coupled by then
    assert get_by_bc_id("CUSTOMER", first["id"]).dataverse_id == planned
    assert sandbox_app.state.store.count("dv/accounts") == count + 1
    assert pending_intents() == []


async def test_resume_finishes_or_abandons_pending_creates(session: SyncSession, sandbox_app) -> None:
    done, never = customers_without_account(sandbox_app)[:2]
    planned = str(uuid.uuid4())
    begin_create_intent("CUSTOMER", Side.BC, done["id"], planned)
    await session.dataverse.create(DataverseAccount, {"accountid": planned, "name": done["displayName"]})
    begin_create_intent("CUSTOMER", Side.BC, never["id"], str(uuid.uuid4()))
    account = dataverse_only_accounts(sandbox_app)[0]
    body = _bc_body(account)
    begin_create_intent("CUSTOMER", Side.DATAVERSE, account["accountid"], "", body=body)
    made = await session.bc.create(BcCustomer, body)  # numbered by the series
    summary = await resume_pending_creates(session)
    assert summary.counters == {"inserted": 2, "skipped": 1}
    assert get_by_bc_id("CUSTOMER", done["id"]).dataverse_id == planned
    coupling = get_by_dataverse_id("CUSTOMER", account["accountid"])
    assert (coupling.bc_id, coupling.bc_number) == (made.id.lower(), made.data["number"])
    assert get_by_bc_id("CUSTOMER", never["id"]) is None
    assert pending_intents() == []


def _bc_body(account: dict) -> dict:
    """What creating the BC customer of ``account`` sends (the values it is found again by)."""
    return {
        "displayName": account["name"],
        "email": account["emailaddress1"],
        "phoneNumber": account["telephone1"],
        "city": account["address1_city"],
        "blocked": " ",
    }


async def test_an_interrupted_bc_create_is_adopted_by_its_values_not_a_lookalike(
    session: SyncSession, sandbox_app
) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    body = {**_bc_body(account), "displayName": f"O'Brien's {account['name']}"}  # quotes are doubled in the filter
    begin_create_intent("CUSTOMER", Side.DATAVERSE, account["accountid"], "", body=body)
    # A run that died after BC numbered and stored the customer, before coupling it ...
    made = await session.bc.create(BcCustomer, body)
    # ... and colleagues' customers of the same name: one with another phone, one written in
    # capitals (BC compares text case-sensitively; these values are not ours either way).
    await session.bc.create(BcCustomer, {**body, "phoneNumber": "+1 555 0100 999"})
    await session.bc.create(BcCustomer, {**body, "displayName": body["displayName"].upper(), "city": "Elsewhere"})
    count = sandbox_app.state.store.count("bc/customers")
    summary = await create_in_bc(session, "CUSTOMER", [account["accountid"]])
    settled = jobs.get_job(summary.job_id - 1)
    assert (settled.type, settled.inserted) == (JobType.CREATION, 1)
    assert summary.counters == {"skipped": 1}  # already coupled by then
    assert get_by_dataverse_id("CUSTOMER", account["accountid"]).bc_id == made.id.lower()
    assert sandbox_app.state.store.count("bc/customers") == count and pending_intents() == []


async def test_an_interrupted_bc_create_that_never_reached_bc_is_created_again(
    session: SyncSession, sandbox_app
) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    begin_create_intent("CUSTOMER", Side.DATAVERSE, account["accountid"], "", body=_bc_body(account))
    count = sandbox_app.state.store.count("bc/customers")
    summary = await create_in_bc(session, "CUSTOMER", [account["accountid"]])
    settled = jobs.get_job(summary.job_id - 1)
    assert (settled.type, settled.skipped) == (JobType.CREATION, 1)
    assert "never reached Business Central; create it again." in jobs.job_errors(settled.id)[0].message
    assert summary.counters == {"inserted": 1}
    coupling = get_by_dataverse_id("CUSTOMER", account["accountid"])
    assert sandbox_app.state.store.get("bc/customers", coupling.bc_id)["displayName"] == account["name"]
    assert sandbox_app.state.store.count("bc/customers") == count + 1 and pending_intents() == []


async def test_an_interrupted_bc_create_with_several_lookalikes_fails_until_coupled_by_hand(
    session: SyncSession, sandbox_app
) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    body = _bc_body(account)
    begin_create_intent("CUSTOMER", Side.DATAVERSE, account["accountid"], "", body=body)
    first = await session.bc.create(BcCustomer, body)
    second = await session.bc.create(BcCustomer, body)
    count = sandbox_app.state.store.count("bc/customers")
    summary = await create_in_bc(session, "CUSTOMER", [account["accountid"]])
    [result] = summary.results
    assert result.outcome is Outcome.FAILED
    assert result.message == (
        f"The interrupted creation of the counterpart of the account {account['name']} may have made any of 2 "
        f"uncoupled customers in Business Central that hold its values (customer {first.data['number']} "
        f"{account['name']}, customer {second.data['number']} {account['name']}), so bc-tui created no other; "
        "couple the right one with Set Up Coupling."
    )
    settled = jobs.get_job(summary.job_id - 1)
    assert (settled.type, settled.failed) == (JobType.CREATION, 1)
    # Nothing was created, and the intent stays: no later run creates a third.
    assert sandbox_app.state.store.count("bc/customers") == count and len(pending_intents()) == 1
    await couple_record(session, "CUSTOMER", second.id, dataverse_id=account["accountid"])
    await resume_pending_creates(session)
    assert pending_intents() == [] and get_by_dataverse_id("CUSTOMER", account["accountid"]).bc_id == second.id.lower()
    assert sandbox_app.state.store.count("bc/customers") == count


async def test_a_bc_create_another_running_job_is_making_is_left_to_it(session: SyncSession, sandbox_app) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    other = jobs.start_job(JobType.CREATION, mapping="CUSTOMER")  # alive: it runs in this very process
    intent = begin_create_intent(
        "CUSTOMER", Side.DATAVERSE, account["accountid"], "", job_id=other.id, body=_bc_body(account)
    )
    count = sandbox_app.state.store.count("bc/customers")
    summary = await create_in_bc(session, "CUSTOMER", [account["accountid"]])
    [result] = summary.results
    assert (result.outcome, result.message) == (
        Outcome.SKIPPED,
        f"The job {other.id}, still running, is creating the counterpart of the account {account['name']}, so this "
        "job did not create another.",
    )
    assert sandbox_app.state.store.count("bc/customers") == count and pending_intents() == [intent]


async def test_a_job_adopts_or_sends_again_the_bc_creates_left_before_it(session: SyncSession, sandbox_app) -> None:
    # Intents left behind and not settled before the job (its settling failed, say): the job
    # itself looks for their records before it creates anything.
    made_for, never_sent = dataverse_only_accounts(sandbox_app)[:2]
    body = _bc_body(made_for)
    begin_create_intent("CUSTOMER", Side.DATAVERSE, made_for["accountid"], "", body=body)
    made = await session.bc.create(BcCustomer, body)
    begin_create_intent("CUSTOMER", Side.DATAVERSE, never_sent["accountid"], "", body=_bc_body(never_sent))
    count = sandbox_app.state.store.count("bc/customers")
    mapping = session.mapping("CUSTOMER")
    async with JobLog(JobType.CREATION, mapping="CUSTOMER", db=session.db) as run:
        await create_in_job(session, mapping, BC_SIDE, [made_for["accountid"], never_sent["accountid"]], run)
    assert run.summary.counters == {"inserted": 2}
    assert get_by_dataverse_id("CUSTOMER", made_for["accountid"]).bc_id == made.id.lower()
    sent = sandbox_app.state.store.get("bc/customers", get_by_dataverse_id("CUSTOMER", never_sent["accountid"]).bc_id)
    assert sent["displayName"] == never_sent["name"]
    assert sandbox_app.state.store.count("bc/customers") == count + 1 and pending_intents() == []


async def test_a_lookalike_last_modified_before_the_create_began_is_not_adopted(
    session: SyncSession, sandbox_app
) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    body = _bc_body(account)
    older = await session.bc.create(BcCustomer, body)  # the same values, last modified ...
    began = datetime.now(UTC) + MARGIN + timedelta(seconds=2)  # ... more than MARGIN before the create began
    begin_create_intent("CUSTOMER", Side.DATAVERSE, account["accountid"], "", body=body, begun_at=began)
    summary = await resume_pending_creates(session)
    assert summary.counters == {"skipped": 1} and "never reached Business Central" in summary.results[0].message
    assert get_by_bc_id("CUSTOMER", older.id) is None and pending_intents() == []


@manual_numbers  # the tenant took the number an older bc-tui planned
async def test_an_intent_of_an_older_bc_tui_is_found_by_its_planned_number(session: SyncSession, sandbox_app) -> None:
    account = dataverse_only_accounts(sandbox_app)[0]
    begin_create_intent("CUSTOMER", Side.DATAVERSE, account["accountid"], "DV0123456789ABCDEF")  # no body kept
    made = await session.bc.create(BcCustomer, {"number": "DV0123456789ABCDEF", "displayName": account["name"]})
    summary = await resume_pending_creates(session)
    assert summary.counters == {"inserted": 1}
    assert get_by_dataverse_id("CUSTOMER", account["accountid"]).bc_id == made.id.lower()


async def test_one_way_mapping_refuses_the_other_direction(session: SyncSession) -> None:
    session.mappings["CUSTOMER"] = replace(session.mapping("CUSTOMER"), direction=Direction.TO_DATAVERSE)
    with pytest.raises(SyncError, match="does not synchronize towards Business Central"):
        await create_in_bc(session, "CUSTOMER", ["00000000-0000-0000-0000-000000000001"])


async def test_a_cancelled_create_job_is_logged_and_finishes_on_the_next_run(
    session: SyncSession, sandbox_app, monkeypatch
) -> None:
    import asyncio

    from bc_tui.store.jobs import JobStatus
    from bc_tui.sync import create

    monkeypatch.setattr(create, "CHUNK", 2)  # several rounds, so there is a "between rounds"
    ids = [c["id"] for c in customers_without_account(sandbox_app)[:6]]
    count = sandbox_app.state.store.count("dv/accounts")
    task: asyncio.Task | None = None

    def cancel_after_first(progress) -> None:
        if progress.done >= 1 and task is not None:
            task.cancel()

    task = asyncio.create_task(create_in_dataverse(session, "CUSTOMER", ids, progress=cancel_after_first))
    with pytest.raises(asyncio.CancelledError):
        await task
    [job] = jobs.list_jobs(job_type=JobType.CREATION)
    assert job.status is JobStatus.CANCELLED and 0 < job.inserted < 6
    summary = await create_in_dataverse(session, "CUSTOMER", ids)
    assert summary.count(Outcome.INSERTED) + summary.count(Outcome.SKIPPED) == 6
    assert count_couplings("CUSTOMER") == 6 and sandbox_app.state.store.count("dv/accounts") == count + 6
