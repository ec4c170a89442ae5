"""Writes: ETag conflicts, and retries after a lost answer that never duplicate or overwrite."""

from __future__ import annotations

from typing import Any

import pytest
from connector_helpers import Endpoint, LoseResponses

from bc_tui.connectors import (
    AlreadyExists,
    BcCustomer,
    BusinessCentralClient,
    ChangedSinceRead,
    ConnectionLost,
    DataverseAccount,
    DataverseClient,
    DataverseContact,
    NotFound,
    parent_account,
)
from tests.sandbox_setups import manual_numbers


async def test_bc_stale_etag_is_changed_since_read(endpoint: Endpoint, bc: BusinessCentralClient) -> None:
    customer = await bc.create(BcCustomer, {"displayName": "Etag Ltd"})
    other = await bc.update(BcCustomer, customer.id, customer.etag, {"city": "Leeds"})  # someone else's change
    assert other.etag != customer.etag
    with pytest.raises(ChangedSinceRead) as caught:
        await bc.update(BcCustomer, customer.id, customer.etag, {"city": "York"})
    assert "changed by someone else" in caught.value.message and "reload it and try again" in caught.value.message
    assert caught.value.status == 412
    with pytest.raises(ChangedSinceRead):
        await bc.delete(BcCustomer, customer.id, customer.etag)
    assert (await bc.get(BcCustomer, customer.id)).get("city") == "Leeds"  # never overwritten
    await bc.delete(BcCustomer, customer.id, other.etag)
    with pytest.raises(NotFound):
        await bc.get(BcCustomer, customer.id)


async def test_dataverse_stale_etag_is_changed_since_read(endpoint: Endpoint, dv: DataverseClient) -> None:
    account = await dv.create(DataverseAccount, {"name": "Etag Inc"})
    await dv.update(DataverseAccount, account.id, account.etag, {"telephone1": "111"})
    with pytest.raises(ChangedSinceRead):
        await dv.update(DataverseAccount, account.id, account.etag, {"telephone1": "222"})
    assert (await dv.get(DataverseAccount, account.id)).data["telephone1"] == "111"


@manual_numbers  # a number typed in that is taken: only where the series allow numbers typed in
async def test_duplicates_are_already_exists(inprocess: Endpoint) -> None:
    async with inprocess.bc() as bc, inprocess.dv() as dv:
        await bc.create(BcCustomer, {"number": "D-1", "displayName": "First"})
        with pytest.raises(AlreadyExists, match="D-1"):
            await bc.create(BcCustomer, {"number": "D-1", "displayName": "Second"})
        account = await dv.create(DataverseAccount, {"name": "Dup"})
        with pytest.raises(AlreadyExists):
            await dv.create(DataverseAccount, {"accountid": account.id, "name": "Dup again"})


async def test_update_never_creates_and_a_contact_binds_to_its_account(inprocess: Endpoint) -> None:
    async with inprocess.dv() as dv:
        missing = "6b1c7f4e-1111-4c2a-9c55-000000000001"
        with pytest.raises(NotFound):
            await dv.update(DataverseAccount, missing, "*", {"name": "Nobody"})  # If-Match: * never creates
        created = await dv.create(DataverseAccount, {"accountid": missing, "name": "Created"})
        assert created.id == missing and created.name == "Created"
        contact = await dv.create(DataverseContact, {"firstname": "Ann", "lastname": "Lee", **parent_account(missing)})
        assert contact.data["_parentcustomerid_value"] == missing and contact.full_name == "Ann Lee"


def _is(method: str, fragment: str = "") -> Any:
    return lambda request: request.method == method and fragment in request.url.path


async def test_lost_patch_answer_is_recognised_as_committed(endpoint: Endpoint) -> None:
    async with endpoint.bc() as setup:
        customer = await setup.create(BcCustomer, {"displayName": "Lost Patch"})
    wire = LoseResponses(endpoint.wire(), _is("PATCH"))
    async with endpoint.bc(transport=wire) as bc:
        updated = await bc.update(BcCustomer, customer.id, customer.etag, {"city": "Bristol", "creditLimit": 500})
        assert wire.remaining == 0 and bc.service.retries >= 1  # the first answer really was lost
    assert updated.get("city") == "Bristol" and updated.get("creditLimit") == 500
    [stored] = [r for r in endpoint.store_rows("bc/customers") if r["id"] == customer.id]
    assert stored["city"] == "Bristol"


async def test_lost_patch_answer_then_a_concurrent_change_is_a_conflict(inprocess: Endpoint) -> None:
    async with inprocess.dv() as other:
        account = await other.create(DataverseAccount, {"name": "Contested"})

        async def someone_else_changes_it() -> None:
            current = await other.get(DataverseAccount, account.id)
            await other.update(DataverseAccount, account.id, current.etag, {"name": "Someone else's"})

        wire = LoseResponses(inprocess.wire(), _is("PATCH"), before_loss=someone_else_changes_it)
        async with inprocess.dv(transport=wire) as dv:
            with pytest.raises(ChangedSinceRead):
                await dv.update(DataverseAccount, account.id, account.etag, {"name": "Mine"})
        assert (await other.get(DataverseAccount, account.id)).name == "Someone else's"


async def test_lost_delete_answer_is_success(inprocess: Endpoint) -> None:
    async with inprocess.dv() as setup:
        account = await setup.create(DataverseAccount, {"name": "Doomed"})
    wire = LoseResponses(inprocess.wire(), _is("DELETE"))
    async with inprocess.dv(transport=wire) as dv:
        await dv.delete(DataverseAccount, account.id, account.etag)
        assert wire.remaining == 0
        with pytest.raises(NotFound):
            await dv.get(DataverseAccount, account.id)


async def test_lost_dataverse_create_answer_creates_one_row(endpoint: Endpoint) -> None:
    wire = LoseResponses(endpoint.wire(), _is("POST", "/accounts"))
    async with endpoint.dv(transport=wire) as dv:
        account = await dv.create(DataverseAccount, {"name": "Exactly Once"})
        assert wire.remaining == 0
    rows = [r for r in endpoint.store_rows("dv/accounts") if r.get("name") == "Exactly Once"]
    assert len(rows) == 1 and account.id == rows[0]["accountid"]


@manual_numbers  # reconciling by number needs a number of our own
async def test_lost_bc_create_answer_is_reconciled_by_number(endpoint: Endpoint) -> None:
    wire = LoseResponses(endpoint.wire(), _is("POST", "/customers"))
    async with endpoint.bc(transport=wire) as bc:
        customer = await bc.create(BcCustomer, {"number": "R-1", "displayName": "Reconciled"})
        assert wire.remaining == 0
    rows = [r for r in endpoint.store_rows("bc/customers") if r.get("number") == "R-1"]
    assert len(rows) == 1 and customer.id == rows[0]["id"] and customer.etag


async def test_lost_bc_create_without_number_is_not_retried_blindly(inprocess: Endpoint) -> None:
    before = len(inprocess.store_rows("bc/customers"))
    wire = LoseResponses(inprocess.wire(), _is("POST", "/customers"))
    async with inprocess.bc(transport=wire) as bc:
        with pytest.raises(ConnectionLost) as caught:
            await bc.create(BcCustomer, {"displayName": "Numberless"})
    assert "may or may not have been saved" in caught.value.message
    assert len(inprocess.store_rows("bc/customers")) == before + 1  # committed once, never twice


@manual_numbers
async def test_bc_create_with_number_taken_by_someone_else_after_a_loss(inprocess: Endpoint) -> None:
    """Reconciling never adopts another user's record: the number must carry our name too."""

    async def someone_else_takes_the_number() -> None:
        async with inprocess.bc() as other:
            [row] = [c async for c in other.rows(BcCustomer, filter="number eq 'T-1'")]
            await other.delete(BcCustomer, row.id, row.etag)
            await other.create(BcCustomer, {"number": "T-1", "displayName": "Someone else"})

    wire = LoseResponses(inprocess.wire(), _is("POST", "/customers"), before_loss=someone_else_takes_the_number)
    async with inprocess.bc(transport=wire) as bc:
        with pytest.raises(AlreadyExists):
            await bc.create(BcCustomer, {"number": "T-1", "displayName": "Ours"})
