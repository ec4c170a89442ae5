"""Set Up Coupling (docs/coupling-and-sync.md "Set Up Coupling") against the in-process sandbox: every rule and message."""

from __future__ import annotations

import pytest
from sync_demo import blocked_customer, customers_with_twin, customers_without_account, rows

from bc_tui.domain.mappings import Direction, SyncDirection
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id, get_by_dataverse_id
from bc_tui.store.jobs import JobType
from bc_tui.sync.couple import (
    couple_record,
    create_new_available,
    default_sync_after,
    preview_coupling,
)
from bc_tui.sync.errors import SyncError
from bc_tui.sync.session import SyncSession


async def test_couple_by_exact_name_writes_coupling_and_job(session: SyncSession, sandbox_app) -> None:
    customer, account = customers_with_twin(sandbox_app)[0]
    result = await couple_record(session, "CUSTOMER", customer["id"], dataverse_name=account["name"])
    stored = get_by_bc_id("CUSTOMER", customer["id"])
    assert stored is not None and stored.dataverse_id == account["accountid"]
    assert stored.bc_number == customer["number"] and stored.display_name == customer["displayName"]
    assert result.coupling == stored and not result.created
    job = jobs.get_job(result.job_id)
    assert job.type is JobType.COUPLING and job.coupled == 1
    assert customer["displayName"] in result.message


async def test_couple_by_prefix_when_no_exact_match(session: SyncSession, sandbox_app) -> None:
    customer = customers_without_account(sandbox_app)[0]
    account = customers_with_twin(sandbox_app)[1][1]
    prefix = account["name"][:-3]
    result = await couple_record(session, "CUSTOMER", customer["id"], dataverse_name=prefix)
    chosen = sandbox_app.state.store.get("dv/accounts", result.coupling.dataverse_id)
    assert chosen["name"].startswith(prefix)


async def test_unknown_name_is_refused_with_bc_wording(session: SyncSession, sandbox_app) -> None:
    customer = customers_without_account(sandbox_app)[0]
    with pytest.raises(SyncError) as caught:
        await couple_record(session, "CUSTOMER", customer["id"], dataverse_name="Nobody's Corp")
    assert str(caught.value) == "A record with the name Nobody's Corp does not exist in Dataverse."
    assert get_by_bc_id("CUSTOMER", customer["id"]) is None


async def test_record_hidden_by_integration_table_filter_names_the_mapping(session: SyncSession, sandbox_app) -> None:
    customer, account = customers_with_twin(sandbox_app)[0]
    sandbox_app.state.store.update("dv/accounts", account["accountid"], {"customertypecode": 1})
    with pytest.raises(SyncError, match="integration table filter of the table mapping CUSTOMER"):
        await couple_record(session, "CUSTOMER", customer["id"], dataverse_id=account["accountid"])


async def test_blocked_customer_cannot_be_coupled(session: SyncSession, sandbox_app) -> None:
    blocked = blocked_customer(sandbox_app)
    account = rows(sandbox_app, "dv/accounts")[0]
    with pytest.raises(SyncError, match="outside the table filter of the table mapping CUSTOMER"):
        await couple_record(session, "CUSTOMER", blocked["id"], dataverse_id=account["accountid"])


async def test_missing_records_are_named(session: SyncSession, sandbox_app) -> None:
    customer = customers_without_account(sandbox_app)[0]
    with pytest.raises(SyncError, match="does not exist"):
        await couple_record(session, "CUSTOMER", "00000000-0000-0000-0000-00000000abcd", dataverse_name="x")
    with pytest.raises(SyncError, match="account 00000000-0000-0000-0000-00000000abcd does not exist"):
        await couple_record(session, "CUSTOMER", customer["id"], dataverse_id="00000000-0000-0000-0000-00000000abcd")
    with pytest.raises(SyncError, match="Choose the Dataverse record"):
        await couple_record(session, "CUSTOMER", customer["id"])


async def test_coupling_is_one_to_one(session: SyncSession, sandbox_app) -> None:
    (first, account_a), (second, account_b) = customers_with_twin(sandbox_app)[:2]
    await couple_record(session, "CUSTOMER", first["id"], dataverse_id=account_a["accountid"])
    # The refusals name both records by number and name, never by GUID.
    with pytest.raises(SyncError) as taken:
        await couple_record(session, "CUSTOMER", second["id"], dataverse_id=account_a["accountid"])
    assert str(taken.value) == (
        f"The Dataverse account {account_a['name']} is already coupled to the Business Central customer "
        f"{first['number']} {first['displayName']} in CUSTOMER; delete that coupling first."
    )
    with pytest.raises(SyncError) as taken:
        await couple_record(session, "CUSTOMER", first["id"], dataverse_id=account_b["accountid"])
    assert str(taken.value) == (
        f"The Business Central customer {first['number']} {first['displayName']} is already coupled to the "
        f"Dataverse account {account_a['name']} in CUSTOMER; delete that coupling first."
    )
    # Coupling the same pair again is harmless.
    again = await couple_record(session, "CUSTOMER", first["id"], dataverse_id=account_a["accountid"])
    assert again.coupling.dataverse_id == account_a["accountid"]
    # The user confirmed re-coupling: the old coupling goes.
    await couple_record(session, "CUSTOMER", first["id"], dataverse_id=account_b["accountid"], replace=True)
    assert get_by_bc_id("CUSTOMER", first["id"]).dataverse_id == account_b["accountid"]
    assert get_by_dataverse_id("CUSTOMER", account_a["accountid"]) is None


async def test_stale_coupling_of_a_deleted_bc_record_is_removed_silently(session: SyncSession, sandbox_app) -> None:
    (gone, account), (other, _) = customers_with_twin(sandbox_app)[:2]
    await couple_record(session, "CUSTOMER", gone["id"], dataverse_id=account["accountid"])
    sandbox_app.state.store.delete("bc/customers", gone["id"])
    result = await couple_record(session, "CUSTOMER", other["id"], dataverse_id=account["accountid"])
    assert result.removed_stale is not None and result.removed_stale.bc_id == gone["id"]
    assert get_by_dataverse_id("CUSTOMER", account["accountid"]).bc_id == other["id"]
    assert get_by_bc_id("CUSTOMER", gone["id"]) is None


async def test_create_new_creates_the_account_from_bc_data(session: SyncSession, sandbox_app) -> None:
    customer = customers_without_account(sandbox_app)[0]
    before = sandbox_app.state.store.count("dv/accounts")
    result = await couple_record(session, "CUSTOMER", customer["id"], create_new=True)
    assert result.created and sandbox_app.state.store.count("dv/accounts") == before + 1
    account = sandbox_app.state.store.get("dv/accounts", result.coupling.dataverse_id)
    assert account["name"] == customer["displayName"] and account["emailaddress1"] == customer["email"]
    assert account["customertypecode"] == 3  # lands inside the integration table filter
    with pytest.raises(SyncError, match="already coupled"):
        await couple_record(session, "CUSTOMER", customer["id"], create_new=True)
    assert sandbox_app.state.store.count("dv/accounts") == before + 1


async def test_preview_shows_both_values_per_field(session: SyncSession, sandbox_app) -> None:
    customer, account = customers_with_twin(sandbox_app)[0]
    preview = await preview_coupling(session, "CUSTOMER", customer["id"], account["accountid"])
    name = next(row for row in preview.rows if row.label == "Name")
    assert (name.bc_value, name.dataverse_value, name.direction) == (
        customer["displayName"],
        account["name"],
        Direction.BIDIRECTIONAL,
    )
    credit = next(row for row in preview.rows if row.label == "Credit Limit (LCY)")
    assert credit.direction is Direction.TO_DATAVERSE
    assert preview.default_sync_after is SyncDirection.TO_DATAVERSE and preview.create_new_available
    assert preview.current_dataverse_id is None
    await couple_record(session, "CUSTOMER", customer["id"], dataverse_id=account["accountid"])
    coupled = await preview_coupling(session, "CUSTOMER", customer["id"])
    assert coupled.current_dataverse_id == account["accountid"] and coupled.default_sync_after is None
    assert coupled.dataverse_description == f"account {account['name']}"


def test_dialog_defaults_follow_the_mapping_direction(session: SyncSession) -> None:
    from dataclasses import replace

    mapping = session.mapping("CUSTOMER")
    from_dv = replace(mapping, direction=Direction.FROM_DATAVERSE)
    assert default_sync_after(from_dv, already_coupled=False) is SyncDirection.FROM_DATAVERSE
    assert default_sync_after(mapping, already_coupled=False) is SyncDirection.TO_DATAVERSE
    assert not create_new_available(from_dv) and create_new_available(mapping)


async def test_sync_after_coupling_synchronizes_once(session: SyncSession, sandbox_app) -> None:
    pytest.importorskip("bc_tui.sync.synchronize")
    customer, account = customers_with_twin(sandbox_app)[0]
    result = await couple_record(
        session, "CUSTOMER", customer["id"], dataverse_id=account["accountid"], sync_after=SyncDirection.TO_DATAVERSE
    )
    assert result.sync is not None
    assert sandbox_app.state.store.get("dv/accounts", account["accountid"])["telephone1"] == customer["phoneNumber"]
