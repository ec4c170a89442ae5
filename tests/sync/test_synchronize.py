"""Synchronize Now (docs/coupling-and-sync.md "Synchronize Now", "Synchronizing modified records", "Deleted records and broken couplings"): one record (send / get / merge), several records, races, deletions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.diff import FieldState
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling
from bc_tui.store.coupling_writes import couple
from bc_tui.store.records import CouplingRecord, Side, SyncResult
from bc_tui.sync.errors import SyncError
from bc_tui.sync.preview import preview_sync
from bc_tui.sync.session import SyncSession, open_session
from bc_tui.sync.synchronize import synchronize_many, synchronize_one
from tests.sync.coupled_pairs import (
    MAPPING,
    account_row,
    active_customer_ids,
    bc_row,
    coupled_customers,
    edit_account,
    edit_bc,
    store_of,
)

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


# --- one record ---------------------------------------------------------------------------------


async def test_send_one_record_writes_dataverse_and_remembers_the_sync(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield", phoneNumber="+1 555 0100")

    summary = await synchronize_one(session, MAPPING, pair.bc_id, SEND)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    account = account_row(sandbox_app, pair.dataverse_id)
    assert (account["address1_city"], account["telephone1"]) == ("Springfield", "+1 555 0100")
    coupling = get_coupling(pair.id)
    assert coupling.to_dataverse_result is SyncResult.SUCCESS
    assert coupling.snapshot["bc"]["City"] == coupling.snapshot["dataverse"]["City"] == "Springfield"
    assert coupling.dataverse_etag == f'W/"{account["_version"]}"'
    assert "has run for 1 of 1 record" in summary.message
    # Right after, there is nothing left to do.
    again = await synchronize_one(session, MAPPING, pair.bc_id, SEND)
    assert again.result_for(pair.bc_id).outcome is Outcome.UNCHANGED


async def test_get_one_record_writes_business_central(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")

    preview = await preview_sync(session, MAPPING, pair.bc_id)
    assert preview.recommendation.recommended is GET
    assert preview.recommendation.reasons == ("City changed in Dataverse.",)
    summary = await synchronize_one(session, MAPPING, pair.bc_id, GET)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
    coupling = get_coupling(pair.id)
    assert coupling.from_dataverse_result is SyncResult.SUCCESS
    assert coupling.snapshot["bc"]["City"] == "Shelbyville"


async def test_merge_carries_each_sides_changes_to_the_other(session: SyncSession, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, telephone1="+1 555 0199")

    preview = await preview_sync(session, MAPPING, pair.bc_id)
    assert preview.recommendation.recommended is MERGE
    summary = await synchronize_one(session, MAPPING, pair.bc_id, MERGE)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    bc, account = bc_row(sandbox_app, pair.bc_id), account_row(sandbox_app, pair.dataverse_id)
    assert (bc["city"], bc["phoneNumber"]) == ("Springfield", "+1 555 0199")
    assert (account["address1_city"], account["telephone1"]) == ("Springfield", "+1 555 0199")
    coupling = get_coupling(pair.id)
    assert coupling.to_dataverse_result is coupling.from_dataverse_result is SyncResult.SUCCESS


async def test_merge_conflict_names_the_fields_and_overwrites_nothing(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")

    preview = await preview_sync(session, MAPPING, pair.bc_id)
    assert preview.recommendation.conflicts == ("City",)
    assert MERGE not in preview.recommendation.offered
    assert "City" in preview.recommendation.warning
    city = next(row for row in preview.fields if row.label == "City")
    assert (city.bc_now, city.dataverse_now, city.state) == ("Springfield", "Shelbyville", FieldState.CONFLICT)

    summary = await synchronize_one(session, MAPPING, pair.bc_id, MERGE)

    result = summary.result_for(pair.bc_id)
    assert result.outcome is Outcome.CONFLICT
    assert "City changed on both sides" in result.message
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Springfield"
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Shelbyville"
    # The conflict is in the job's error list, with the record.
    [error] = jobs.job_errors(summary.job_id)
    assert error.bc_id == pair.bc_id and "City" in error.message


async def test_merge_with_a_choice_per_field_resolves_the_conflict(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")

    summary = await synchronize_one(session, MAPPING, pair.bc_id, MERGE, choices={"City": GET})

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Shelbyville"


async def test_send_wins_only_the_conflicting_field_and_dataverse_changes_flow_back(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    """The issue's Adatum case: City and E-Mail changed in BC, City and Phone No. in Dataverse."""
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield", email="new@adatum.example")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", telephone1="+1 555 0199")

    summary = await synchronize_one(session, MAPPING, pair.bc_id, SEND)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    account, customer = account_row(sandbox_app, pair.dataverse_id), bc_row(sandbox_app, pair.bc_id)
    assert account["address1_city"] == customer["city"] == "Springfield"  # BC wins the conflict
    assert account["emailaddress1"] == customer["email"] == "new@adatum.example"
    assert account["telephone1"] == customer["phoneNumber"] == "+1 555 0199"  # Dataverse's change survives
    again = await synchronize_one(session, MAPPING, pair.bc_id, MERGE)
    assert again.result_for(pair.bc_id).outcome is Outcome.UNCHANGED


async def test_an_explicit_whole_record_send_overwrites_dataverse_changes(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", telephone1="+1 555 0199")
    before_bc = bc_row(sandbox_app, pair.bc_id)

    summary = await synchronize_one(session, MAPPING, pair.bc_id, SEND, whole_record=True)

    assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    account = account_row(sandbox_app, pair.dataverse_id)
    assert account["address1_city"] == "Springfield"
    assert account["telephone1"] == before_bc["phoneNumber"]
    assert bc_row(sandbox_app, pair.bc_id)["_version"] == before_bc["_version"]  # BC untouched


async def test_a_choice_naming_no_field_is_refused_before_anything_runs(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    before = len(jobs.list_jobs())
    with pytest.raises(SyncError, match="no enabled field mapping 'Town'"):
        await synchronize_one(session, MAPPING, pair.bc_id, MERGE, choices={"Town": SEND})
    assert len(jobs.list_jobs()) == before


async def test_preview_of_an_uncoupled_record_asks_to_couple(session: SyncSession, sandbox_app: Starlette) -> None:
    bc_id = active_customer_ids(sandbox_app, 1)[0]
    preview = await preview_sync(session, MAPPING, bc_id)
    assert not preview.coupled and preview.recommendation is None
    assert preview.question == (
        "The customer 10000 Adatum Corporation is not coupled to Dataverse. Do you want to create a coupling?"
    )
    summary = await synchronize_one(session, MAPPING, bc_id, SEND)
    assert summary.result_for(bc_id).outcome is Outcome.SKIPPED
    with pytest.raises(SyncError, match="does not exist"):
        await preview_sync(session, MAPPING, "00000000-0000-0000-0000-000000000000")


# --- a change between our read and our write ----------------------------------------------------


class RacingTransport(httpx.AsyncBaseTransport):
    """Lets "another user" change a record just before the first PATCH/$batch reaches the sandbox."""

    def __init__(self, inner: httpx.AsyncBaseTransport, before_write: Callable[[], None]) -> None:
        self.inner = inner
        self.before_write = before_write
        self.fired = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("PATCH", "POST") and not self.fired and "token" not in request.url.path:
            self.fired = True
            self.before_write()
        return await self.inner.handle_async_request(request)


async def test_a_change_while_synchronizing_is_a_conflict_and_is_not_overwritten(
    session: SyncSession, sandbox_app: Starlette, sandbox_info: dict[str, Any], database_url: str
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    transport = RacingTransport(
        asgi_transport(sandbox_app), lambda: edit_account(sandbox_app, pair.dataverse_id, address1_city="Racetown")
    )
    async with open_session(profile_from_sandbox_info(sandbox_info), database_url, transport=transport) as racing:
        summary = await synchronize_one(racing, MAPPING, pair.bc_id, SEND)

        result = summary.result_for(pair.bc_id)
        assert transport.fired
        assert result.outcome is Outcome.CONFLICT
        assert result.message == (
            "Customer 10000 Adatum Corporation was changed in Dataverse while we were synchronizing; "
            "nothing was overwritten. Synchronize again to see the new values."
        )
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Racetown"
        coupling = get_coupling(pair.id)
        assert coupling.to_dataverse_result is SyncResult.FAILURE and not coupling.skipped


async def test_a_change_while_synchronizing_many_is_a_conflict_for_that_record_only(
    session: SyncSession, sandbox_app: Starlette, sandbox_info: dict[str, Any], database_url: str
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 3)
    for pair in pairs:
        edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    raced = pairs[1]
    transport = RacingTransport(
        asgi_transport(sandbox_app), lambda: edit_account(sandbox_app, raced.dataverse_id, address1_city="Racetown")
    )
    async with open_session(profile_from_sandbox_info(sandbox_info), database_url, transport=transport) as racing:
        summary = await synchronize_many(racing, MAPPING, [p.bc_id for p in pairs], SEND)

    assert summary.result_for(raced.bc_id).outcome is Outcome.CONFLICT
    assert account_row(sandbox_app, raced.dataverse_id)["address1_city"] == "Racetown"
    for pair in (pairs[0], pairs[2]):
        assert summary.result_for(pair.bc_id).outcome is Outcome.MODIFIED
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Springfield"


# --- several records ------------------------------------------------------------------------------


async def test_many_records_skip_uncoupled_and_skipped_and_carry_destination_changes_back(
    session: SyncSession, sandbox_app: Starlette, make_skipped: Callable[[int], CouplingRecord]
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 5)
    uncoupled = active_customer_ids(sandbox_app, 6)[5]
    changed_in_bc = pairs[:2]
    for pair in changed_in_bc:
        edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    destination_changed = pairs[2]
    edit_bc(sandbox_app, destination_changed.bc_id, city="Springfield")
    edit_account(sandbox_app, destination_changed.dataverse_id, telephone1="+1 555 0142")
    skipped = pairs[3]
    make_skipped(skipped.id)
    edit_bc(sandbox_app, skipped.bc_id, city="Springfield")

    ids = [p.bc_id for p in pairs] + [uncoupled]
    summary = await synchronize_many(session, MAPPING, ids, SEND)

    outcomes = {bc_id: summary.result_for(bc_id).outcome for bc_id in ids}
    assert [outcomes[p.bc_id] for p in changed_in_bc] == [Outcome.MODIFIED, Outcome.MODIFIED]
    # Its destination changed another field: that change flows back instead of being overwritten.
    assert outcomes[destination_changed.bc_id] is Outcome.MODIFIED
    assert outcomes[skipped.bc_id] is Outcome.SKIPPED
    assert outcomes[uncoupled] is Outcome.SKIPPED
    assert outcomes[pairs[4].bc_id] is Outcome.UNCHANGED
    assert "not coupled" in summary.result_for(uncoupled).message
    assert "skipped after a repeatable failure" in summary.result_for(skipped.bc_id).message
    assert summary.message == (
        "The synchronization has run for 4 of 6 records. 0 records failed. 2 records were skipped."
    )
    for pair in (*changed_in_bc, destination_changed):
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Springfield"
    assert account_row(sandbox_app, skipped.dataverse_id)["address1_city"] != "Springfield"
    assert account_row(sandbox_app, destination_changed.dataverse_id)["telephone1"] == "+1 555 0142"
    assert bc_row(sandbox_app, destination_changed.bc_id)["phoneNumber"] == "+1 555 0142"
    job = jobs.get_job(summary.job_id)
    assert (job.modified, job.unchanged, job.skipped, job.failed) == (3, 1, 2, 0)


@pytest.mark.parametrize("policy", ["skip", "win"])
async def test_many_records_conflict_policy(session: SyncSession, sandbox_app: Starlette, policy: str) -> None:
    from bc_tui.domain.decisions import ConflictPolicy

    calm, torn = await coupled_customers(session, sandbox_app, 2)
    edit_bc(sandbox_app, calm.bc_id, city="Springfield")
    edit_bc(sandbox_app, torn.bc_id, city="Springfield", email="new@torn.example")
    edit_account(sandbox_app, torn.dataverse_id, address1_city="Shelbyville", telephone1="+1 555 0142")
    before = bc_row(sandbox_app, torn.bc_id), account_row(sandbox_app, torn.dataverse_id)

    summary = await synchronize_many(session, MAPPING, [calm.bc_id, torn.bc_id], SEND, conflicts=ConflictPolicy(policy))

    assert summary.result_for(calm.bc_id).outcome is Outcome.MODIFIED
    assert account_row(sandbox_app, calm.dataverse_id)["address1_city"] == "Springfield"
    customer, account = bc_row(sandbox_app, torn.bc_id), account_row(sandbox_app, torn.dataverse_id)
    result = summary.result_for(torn.bc_id)
    if policy == "skip":
        assert result.outcome is Outcome.CONFLICT and "City changed on both sides" in result.message
        assert (customer, account) == before  # nothing of a conflicting record is written
    else:
        assert result.outcome is Outcome.MODIFIED
        assert customer["city"] == account["address1_city"] == "Springfield"
        assert customer["email"] == account["emailaddress1"] == "new@torn.example"
        assert customer["phoneNumber"] == account["telephone1"] == "+1 555 0142"


async def test_many_records_get_in_batches(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 12)
    for index, pair in enumerate(pairs):
        edit_account(sandbox_app, pair.dataverse_id, address1_city=f"Town {index}")

    summary = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], GET)

    assert summary.count(Outcome.MODIFIED) == 12
    for index, pair in enumerate(pairs):
        assert bc_row(sandbox_app, pair.bc_id)["city"] == f"Town {index}"
        coupling = get_coupling(pair.id)
        assert coupling.from_dataverse_result is SyncResult.SUCCESS
        assert coupling.snapshot["dataverse"]["City"] == f"Town {index}"
    again = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], GET)
    assert again.count(Outcome.UNCHANGED) == 12


async def test_merge_is_not_offered_for_many(session: SyncSession, sandbox_app: Starlette) -> None:
    with pytest.raises(SyncError, match="merge one record at a time"):
        await synchronize_many(session, MAPPING, [], MERGE)


# --- deletions (docs/coupling-and-sync.md "Deleted records and broken couplings") and repeated failures ("What a coupling remembers, and Skipped") ---


async def test_a_deleted_counterpart_is_detected_and_reported(session: SyncSession, sandbox_app: Starlette) -> None:
    pairs = await coupled_customers(session, sandbox_app, 2)
    store_of(sandbox_app).delete("dv/accounts", pairs[0].dataverse_id)
    store_of(sandbox_app).delete("bc/customers", pairs[1].bc_id)

    one = await synchronize_one(session, MAPPING, pairs[0].bc_id, SEND)
    result = one.result_for(pairs[0].bc_id)
    assert result.outcome is Outcome.SKIPPED
    assert result.message == (
        "Customer 10000 Adatum Corporation cannot be updated because it is coupled to a deleted Dataverse account. "
        "Restore the deleted record or delete the coupling."
    )
    assert get_coupling(pairs[0].id).deleted_side is Side.DATAVERSE

    many = await synchronize_many(session, MAPPING, [pairs[1].bc_id], GET)
    assert "coupled to a deleted Business Central customer" in many.result_for(pairs[1].bc_id).message
    assert get_coupling(pairs[1].id).deleted_side is Side.BC
    preview = await preview_sync(session, MAPPING, pairs[0].bc_id)
    assert preview.problem and "deleted Dataverse record" in preview.problem


async def test_a_repeated_failure_marks_the_record_skipped_and_retry_clears_it(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    from bc_tui.sync.resolve import errors_overview, retry

    [pair] = await coupled_customers(session, sandbox_app, 1)
    # Business Central's City holds at most 30 characters: the write is refused each time.
    too_long = "Llanfairpwllgwyngyllgogerychwyrndrobwll"
    edit_account(sandbox_app, pair.dataverse_id, address1_city=too_long)

    first = await synchronize_one(session, MAPPING, pair.bc_id, GET)
    assert first.result_for(pair.bc_id).outcome is Outcome.FAILED
    assert not get_coupling(pair.id).skipped
    second = await synchronize_one(session, MAPPING, pair.bc_id, GET)
    assert second.result_for(pair.bc_id).message.endswith(
        "The record will be skipped for further synchronization due to a repeatable failure."
    )
    assert get_coupling(pair.id).skipped
    third = await synchronize_one(session, MAPPING, pair.bc_id, GET)
    assert third.result_for(pair.bc_id).outcome is Outcome.SKIPPED
    [row] = await errors_overview(session)
    assert (row.kind, row.record_exists, row.coupled_record_exists) == ("skipped", True, True)
    assert "Business Central rejected" in row.error

    assert await retry(session, [pair.id]) == 1
    assert not get_coupling(pair.id).skipped
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Llanfair")
    fixed = await synchronize_one(session, MAPPING, pair.bc_id, GET)
    assert fixed.result_for(pair.bc_id).outcome is Outcome.MODIFIED
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Llanfair"
    assert await errors_overview(session) == []


# --- contacts ---------------------------------------------------------------------------------------


async def test_a_contact_update_writes_the_name_parts_and_keeps_its_account(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    from bc_tui.sync.create import create_in_dataverse
    from tests.sync.sync_demo import active_customers, persons_of

    customer = next(c for c in active_customers(sandbox_app) if persons_of(sandbox_app, c))
    await create_in_dataverse(session, MAPPING, [customer["id"]], allow_duplicates=True)
    person = persons_of(sandbox_app, customer)[0]
    created = await create_in_dataverse(session, "CONTACT", [person["id"]], allow_duplicates=True)
    assert created.count(Outcome.INSERTED) == 1, [r.message for r in created.results]
    coupling = get_by_bc_id("CONTACT", person["id"])
    parent = store_of(sandbox_app).get("dv/contacts", coupling.dataverse_id)["_parentcustomerid_value"]
    store_of(sandbox_app).update(
        "bc/contacts", person["id"], {"displayName": "Ada Byron King", "mobilePhoneNumber": "+44 20 7946 0815"}
    )

    summary = await synchronize_one(session, "CONTACT", person["id"], SEND)

    assert summary.result_for(person["id"]).outcome is Outcome.MODIFIED
    contact = store_of(sandbox_app).get("dv/contacts", coupling.dataverse_id)
    assert (contact["firstname"], contact.get("middlename"), contact["lastname"]) == ("Ada Byron", None, "King")
    assert contact["mobilephone"] == "+44 20 7946 0815"
    assert contact["_parentcustomerid_value"] == parent
    again = await synchronize_one(session, "CONTACT", person["id"], SEND)
    assert again.result_for(person["id"]).outcome is Outcome.UNCHANGED


async def test_many_lets_the_chosen_side_win_for_never_synchronized_couplings(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    """A coupling with no baseline (coupled, never synchronized) cannot tell which side changed:
    the direction the user picks for the selected records decides, as after coupling."""
    from tests.sync.sync_demo import customers_with_twin

    twins = customers_with_twin(sandbox_app)[:3]
    for customer, account in twins:
        couple(MAPPING, customer["id"], account["accountid"])
    ids = [customer["id"] for customer, _ in twins]
    edit_account(sandbox_app, twins[0][1]["accountid"], address1_city="Shelbyville")

    plain = await synchronize_many(session, MAPPING, ids, SEND)
    assert plain.count(Outcome.SKIPPED) == 0 and plain.count(Outcome.FAILED) == 0
    for customer, account in twins:
        assert account_row(sandbox_app, account["accountid"])["address1_city"] == customer["city"]


async def test_the_preview_says_what_each_choice_overwrites_as_the_job_then_does(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield", email="new@adatum.example")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville", telephone1="+1 555 0199")
    preview = await preview_sync(session, MAPPING, pair.bc_id)

    def overwritten(direction: SyncDirection, **kwargs: Any) -> list[tuple[str, tuple[str, ...]]]:
        return [(d.label, d.overwritten) for d in preview.decisions(direction, **kwargs) if d.overwritten]

    assert overwritten(SEND) == [("City", ("Dataverse",))]
    assert overwritten(GET) == [("City", ("Business Central",))]
    assert overwritten(SEND, whole_record=True) == [("City", ("Dataverse",)), ("Phone No.", ("Dataverse",))]
    assert overwritten(MERGE, edits={"City": "Capital City"}) == [("City", ("Business Central", "Dataverse"))]
    [unresolved] = [d for d in preview.decisions(MERGE) if d.unresolved]
    assert unresolved.label == "City"

    await synchronize_one(session, MAPPING, pair.bc_id, MERGE, edits={"City": "Capital City"})
    assert bc_row(sandbox_app, pair.bc_id)["city"] == account_row(sandbox_app, pair.dataverse_id)["address1_city"]
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Capital City"
    assert bc_row(sandbox_app, pair.bc_id)["phoneNumber"] == "+1 555 0199"
    assert account_row(sandbox_app, pair.dataverse_id)["emailaddress1"] == "new@adatum.example"
