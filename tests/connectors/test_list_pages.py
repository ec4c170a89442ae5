"""The lists' reads: ``count()`` and ``page()`` per entity set, over HTTP against the sandbox."""

from __future__ import annotations

from connector_helpers import Endpoint

from bc_tui.connectors import BcCustomer, BusinessCentralClient, DataverseAccount, DataverseClient
from bc_tui.connectors.filters import startswith


async def test_bc_count_with_and_without_filter(endpoint: Endpoint, bc: BusinessCentralClient) -> None:
    rows = endpoint.store_rows("bc/customers")
    assert await bc.count(BcCustomer) == len(rows)
    prefix = str(rows[0]["displayName"])[:3]
    expected = [r for r in rows if str(r["displayName"]).lower().startswith(prefix.lower())]
    assert await bc.count(BcCustomer, filter=startswith("displayName", prefix)) == len(expected) >= 1


async def test_bc_pages_by_skip_in_order_without_overlap(endpoint: Endpoint, bc: BusinessCentralClient) -> None:
    total = await bc.count(BcCustomer)
    first = await bc.page(BcCustomer, top=5, skip=0, orderby="number", select=["number"])
    second = await bc.page(BcCustomer, top=5, skip=5, orderby="number", select=["number"])
    past = await bc.page(BcCustomer, top=5, skip=total, orderby="number")
    numbers = [c.number for c in first + second]
    assert len(first) == len(second) == 5 and past == []
    assert numbers == sorted(numbers) and len(set(numbers)) == 10
    assert all(c.id and c.etag for c in first + second)


async def test_dataverse_count_and_pages_by_next_link(endpoint: Endpoint, dv: DataverseClient) -> None:
    expected = {row["accountid"] for row in endpoint.store_rows("dv/accounts")}
    assert await dv.count(DataverseAccount) == min(len(expected), DataverseClient.COUNT_LIMIT)
    page = await dv.page(DataverseAccount, page_size=4, select=["name"], orderby="name,accountid")
    seen = [a.id for a in page.rows]
    names = [a.name for a in page.rows]
    while page.next_link is not None:
        assert len(page.rows) == 4
        page = await dv.page(DataverseAccount, page_size=4, next_link=page.next_link)
        seen.extend(a.id for a in page.rows)
    assert len(seen) == len(set(seen)) and set(seen) == expected
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
