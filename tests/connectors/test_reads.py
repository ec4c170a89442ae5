"""Reads against the sandbox: paging, filters from user input, conditional reads, concurrency."""

from __future__ import annotations

import asyncio

from connector_helpers import Endpoint

from bc_tui.connectors import BcCustomer, BusinessCentralClient, DataverseAccount, DataverseClient
from bc_tui.connectors.filters import and_, contains, eq, startswith


async def test_bc_paging_returns_every_customer_once(endpoint: Endpoint, bc: BusinessCentralClient) -> None:
    sizes = [len(page) async for page in bc.pages(BcCustomer, page_size=7)]
    ids = [c.id async for c in bc.rows(BcCustomer, page_size=7)]
    expected = {row["id"] for row in endpoint.store_rows("bc/customers")}
    assert len(sizes) > 1 and max(sizes) <= 7
    assert sum(sizes) == len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected


async def test_dataverse_paging_returns_every_account_once(endpoint: Endpoint, dv: DataverseClient) -> None:
    pages = [page async for page in dv.pages(DataverseAccount, page_size=6, select=["name"])]
    ids = [a.id for page in pages for a in page]
    expected = {row["accountid"] for row in endpoint.store_rows("dv/accounts")}
    assert len(pages) > 1 and all(len(p) <= 6 for p in pages)
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    assert all(a.etag and a.name for page in pages for a in page)


async def test_companies_and_who_am_i(endpoint: Endpoint, bc: BusinessCentralClient, dv: DataverseClient) -> None:
    companies = await bc.companies()
    assert [c["id"] for c in companies] == [endpoint.info["company_id"]]
    me = await dv.who_am_i()
    assert me["UserId"] and me["OrganizationId"]


async def test_filter_values_with_quotes_match_exactly(bc: BusinessCentralClient, dv: DataverseClient) -> None:
    # BC numbers the customers from its series: each carries its label in the city instead.
    for label, name in [("Q-1", "O'Brien's Pub"), ("Q-2", "O'Brien"), ("Q-3", "OBrien's"), ("Q-4", "x' or '1")]:
        await bc.create(BcCustomer, {"city": label, "displayName": name})
        await dv.create(DataverseAccount, {"name": name, "accountnumber": label})

    async def bc_numbers(flt: str) -> list[str]:
        return sorted([c.data["city"] async for c in bc.rows(BcCustomer, filter=flt)])

    async def dv_numbers(flt: str) -> list[str]:
        return sorted([a.data["accountnumber"] async for a in dv.rows(DataverseAccount, filter=flt)])

    assert await bc_numbers(eq("displayName", "O'Brien's Pub")) == ["Q-1"]
    assert await bc_numbers(startswith("displayName", "O'Brien")) == ["Q-1", "Q-2"]
    assert await bc_numbers(and_(contains("displayName", "'s"), startswith("city", "Q-"))) == ["Q-1", "Q-3"]
    assert await bc_numbers(eq("displayName", "x' or '1")) == ["Q-4"]
    assert await dv_numbers(eq("name", "O'Brien's Pub")) == ["Q-1"]
    assert await dv_numbers(startswith("name", "O'Brien")) == ["Q-1", "Q-2"]
    assert await dv_numbers(eq("name", "x' or '1")) == ["Q-4"]


async def test_find_by_number_and_get(inprocess: Endpoint) -> None:
    bc = inprocess.bc()
    first = await anext(bc.rows(BcCustomer, page_size=1))
    found = await bc.find_by_number(BcCustomer, first.number)
    assert found is not None and found.id == first.id
    assert (await bc.get(BcCustomer, first.id)).number == first.number
    assert await bc.find_by_number(BcCustomer, "no such number") is None
    await bc.aclose()


async def test_concurrency_is_capped_per_service(inprocess: Endpoint) -> None:
    async with inprocess.bc() as bc, inprocess.dv(max_concurrency=3) as dv:
        customers = [c async for c in bc.rows(BcCustomer)]
        await asyncio.gather(*(bc.get(BcCustomer, c.id) for c in customers))
        assert bc.service.limiter.peak <= 5
        # Dataverse starts at its configured cap and then follows the service's x-ms-dop-hint.
        assert dv.service.limiter.limit == 3
        await dv.who_am_i()
        assert dv.service.limiter.limit == inprocess.app.state.sandbox_settings.dop_hint
