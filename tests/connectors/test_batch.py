"""$batch in both forms: per-operation results in order, partial failure, atomicity, chunking."""

from __future__ import annotations

from connector_helpers import Endpoint

from bc_tui.connectors import (
    AlreadyExists,
    BatchOperation,
    BcCustomer,
    BusinessCentralClient,
    ChangedSinceRead,
    DataverseAccount,
    DataverseClient,
)
from tests.sandbox_setups import manual_numbers


async def _stale_customer(bc: BusinessCentralClient, number: str) -> BcCustomer:
    customer = await bc.create(BcCustomer, {"number": number, "displayName": "Stale"})
    await bc.update(BcCustomer, customer.id, customer.etag, {"city": "Changed meanwhile"})
    return customer


def _numbers(endpoint: Endpoint) -> set[str]:
    return {r["number"] for r in endpoint.store_rows("bc/customers")}


def _bc_names(endpoint: Endpoint) -> set[str]:
    return {r["displayName"] for r in endpoint.store_rows("bc/customers")}


@manual_numbers  # one create fails on a number typed in that is taken
async def test_bc_batch_partial_failure(endpoint: Endpoint, bc: BusinessCentralClient) -> None:
    stale = await _stale_customer(bc, "B-0")
    results = await bc.batch(
        [
            BatchOperation.create(BcCustomer, {"number": "B-1", "displayName": "Fine"}),
            BatchOperation.update(BcCustomer, stale.id, stale.etag, {"city": "Mine"}),
            BatchOperation.create(BcCustomer, {"number": "B-0", "displayName": "Duplicate"}),
            BatchOperation.read(BcCustomer, stale.id),
        ]
    )
    assert [r.status for r in results] == [201, 412, 400, 200]
    assert results[0].ok and results[0].body["number"] == "B-1"
    assert isinstance(results[1].error, ChangedSinceRead)
    assert isinstance(results[2].error, AlreadyExists) and "B-0" in results[2].error.message
    assert results[3].body["city"] == "Changed meanwhile"
    assert "B-1" in _numbers(endpoint)


async def test_bc_batch_snapshot_is_all_or_nothing(inprocess: Endpoint) -> None:
    async with inprocess.bc() as bc:
        stale = await bc.create(BcCustomer, {"displayName": "Stale"})
        await bc.update(BcCustomer, stale.id, stale.etag, {"city": "Changed meanwhile"})
        results = await bc.batch(
            [
                BatchOperation.create(BcCustomer, {"displayName": "Rolled back S-1"}),
                BatchOperation.update(BcCustomer, stale.id, stale.etag, {"city": "Mine"}),
            ],
            isolation_snapshot=True,
        )
    assert not results[0].ok and "another change in the same batch failed" in results[0].error.message
    assert isinstance(results[1].error, ChangedSinceRead)
    assert "Rolled back S-1" not in _bc_names(inprocess)


async def test_bc_batch_is_sent_in_chunks_of_100(inprocess: Endpoint) -> None:
    ops = [BatchOperation.create(BcCustomer, {"displayName": f"Chunk {i:03}"}) for i in range(105)]
    async with inprocess.bc() as bc:
        results = await bc.batch(ops)
    assert len(results) == 105 and all(r.ok for r in results)
    assert [r.body["displayName"] for r in results] == [f"Chunk {i:03}" for i in range(105)]
    assert {f"Chunk {i:03}" for i in range(105)} <= _bc_names(inprocess)
    # Each numbered by the series.
    assert len({r.body["number"] for r in results}) == 105


def _names(endpoint: Endpoint) -> set[str]:
    return {r["name"] for r in endpoint.store_rows("dv/accounts")}


async def test_dataverse_change_set_rolls_back_on_failure(endpoint: Endpoint, dv: DataverseClient) -> None:
    account = await dv.create(DataverseAccount, {"name": "Batch target"})
    await dv.update(DataverseAccount, account.id, account.etag, {"name": "Batch target 2"})
    results = await dv.batch(
        [
            BatchOperation.create(DataverseAccount, {"name": "CS created"}),
            BatchOperation.update(DataverseAccount, account.id, account.etag, {"name": "CS stale"}),
        ],
        change_set=True,
    )
    assert results[0].status is None and "another change in the same batch failed" in results[0].error.message
    assert results[1].status == 412 and isinstance(results[1].error, ChangedSinceRead)
    assert "CS created" not in _names(endpoint)


async def test_dataverse_change_set_success_returns_rows_in_order(inprocess: Endpoint) -> None:
    async with inprocess.dv() as dv:
        ops = [BatchOperation.create(DataverseAccount, {"name": f"Set {i}"}) for i in range(3)]
        results = await dv.batch(ops, change_set=True)
    assert all(r.ok for r in results)
    ids = [op.body["accountid"] for op in ops]  # client-generated keys
    stored = {r["accountid"]: r["name"] for r in inprocess.store_rows("dv/accounts")}
    assert [stored[i] for i in ids] == ["Set 0", "Set 1", "Set 2"]


async def test_dataverse_batch_continue_on_error(endpoint: Endpoint, dv: DataverseClient) -> None:
    account = await dv.create(DataverseAccount, {"name": "Coe target"})
    await dv.update(DataverseAccount, account.id, account.etag, {"name": "Coe target 2"})
    ops = [
        BatchOperation.create(DataverseAccount, {"name": "Coe 1"}),
        BatchOperation.update(DataverseAccount, account.id, account.etag, {"name": "Coe stale"}),
        BatchOperation.create(DataverseAccount, {"name": "Coe 3"}),
        BatchOperation.read(DataverseAccount, account.id),
    ]
    results = await dv.batch(ops, change_set=False, continue_on_error=True)
    assert [r.ok for r in results] == [True, False, True, True]
    assert isinstance(results[1].error, ChangedSinceRead)
    assert results[3].body["name"] == "Coe target 2"
    assert {"Coe 1", "Coe 3"} <= _names(endpoint)


async def test_dataverse_batch_stops_at_first_failure_without_continue_on_error(inprocess: Endpoint) -> None:
    async with inprocess.dv() as dv:
        account = await dv.create(DataverseAccount, {"name": "Stop target"})
        await dv.update(DataverseAccount, account.id, account.etag, {"name": "Stop target 2"})
        results = await dv.batch(
            [
                BatchOperation.create(DataverseAccount, {"name": "Stop 1"}),
                BatchOperation.update(DataverseAccount, account.id, account.etag, {"name": "Stop stale"}),
                BatchOperation.create(DataverseAccount, {"name": "Stop 3"}),
            ],
            change_set=False,
        )
    assert [r.status for r in results] == [201, 412, None]
    assert "earlier operation in the batch failed" in results[2].error.message
    names = _names(inprocess)
    assert "Stop 1" in names and "Stop 3" not in names
