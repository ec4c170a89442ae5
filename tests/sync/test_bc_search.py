"""BC's list search and look-ups by text on a tenant as BC is: no ``or`` across fields, and text
compared exactly (or, with ``bc_text_ignores_case``, a tenant whose collation ignores case).

Both kinds of tenant must give the same rows (docs/sandbox-fidelity.md, "Business Central API v2.0").
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.commands.common import resolve_numbers
from bc_tui.connectors.models import BcContact, BcCustomer
from bc_tui.sandbox.settings import SandboxSettings
from bc_tui.sync.bc_list import BcList
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.records import rows_where
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE
from tests.sync.coupled_pairs import MAPPING, coupled_customers, edit_bc, store_of


@pytest.fixture(params=[False, True], ids=["exact-text", "text-ignores-case"])
def sandbox_settings(request: pytest.FixtureRequest) -> SandboxSettings:
    """BC as a tenant is: refusing an ``or`` across fields; text compared exactly or not."""
    settings = SandboxSettings(data_dir=None, customers=30, bc_text_ignores_case=request.param)
    assert settings.bc_refuse_or_across_fields
    return settings


def _customers(app: Starlette) -> list[dict[str, Any]]:
    return list(store_of(app).rows("bc/customers"))


def _seed_search(app: Starlette) -> str:
    """Customers found by name, by e-mail, by both (listed once), and one that is not found."""
    rows = _customers(app)
    edit_bc(app, rows[3]["id"], displayName="Zeta Alpha")
    edit_bc(app, rows[7]["id"], displayName="Beta", email="ZETA@example.com")
    edit_bc(app, rows[12]["id"], displayName="zeta gamma", email="zeta@zeta.example")
    edit_bc(app, rows[18]["id"], displayName="Alpha Zeta", email="alpha@example.com")
    return "zEtA"


def _expected(app: Starlette, text: str, key: Any) -> list[str]:
    folded = text.casefold()
    found = [
        c
        for c in _customers(app)
        if c["displayName"].casefold().startswith(folded)
        or c["number"].casefold().startswith(folded)
        or folded in (c.get("email") or "").casefold()
    ]
    return [c["id"] for c in sorted(found, key=key)]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("No.", lambda c: c["number"]),
        ("Name", lambda c: (c["displayName"].casefold(), c["number"])),
    ],
)
async def test_the_search_merges_one_request_per_field_in_the_lists_order(
    session: SyncSession, sandbox_app: Starlette, sort: str, key: Any
) -> None:
    text = _seed_search(sandbox_app)
    expected = _expected(sandbox_app, text, key)
    assert len(expected) == 3  # by name, by e-mail, by both; "Alpha Zeta" is not found

    found = BcList(lambda: session, MAPPING, ListQuery(text=text, sort=sort))
    assert await found.count() == 3
    assert [row.key for row in await found.page(0, 10)] == expected
    # Page by page, each position is the right record, whatever the page size.
    one_by_one = BcList(lambda: session, MAPPING, ListQuery(text=text, sort=sort))
    assert [(await one_by_one.page(i, 1))[0].key for i in range(3)] == expected
    assert await one_by_one.page(3, 1) == []
    by_two = BcList(lambda: session, MAPPING, ListQuery(text=text, sort=sort))
    assert [r.key for r in await by_two.page(2, 2)] == expected[2:]
    assert [r.key for r in await by_two.page(0, 2)] == expected[:2]


async def test_a_search_finding_more_than_a_page_pages_right(session: SyncSession, sandbox_app: Starlette) -> None:
    text = "info@"  # every demo customer's e-mail: found by one field only, so counted exactly
    expected = _expected(sandbox_app, text, lambda c: c["number"])
    assert len(expected) > 6
    found = BcList(lambda: session, MAPPING, ListQuery(text=text), raw_page_size=5)
    assert await found.count() == len(expected)
    keys = [r.key for start in range(0, len(expected) + 5, 5) for r in await found.page(start, 5)]
    assert keys == expected


async def test_a_search_whose_fields_overlap_beyond_a_page_has_no_count(
    session: SyncSession, sandbox_app: Starlette
) -> None:
    rows = _customers(sandbox_app)
    for row in rows[:8]:  # found by name and by e-mail: the two counts overlap
        edit_bc(sandbox_app, row["id"], displayName=f"Omega {row['number']}", email=f"omega{row['number']}@example.com")
    expected = _expected(sandbox_app, "omega", lambda c: c["number"])
    assert len(expected) == 8
    found = BcList(lambda: session, MAPPING, ListQuery(text="omega"), raw_page_size=5)
    assert await found.count() is None
    assert [r.key for r in await found.page(0, 5) + await found.page(5, 5)] == expected
    whole = BcList(lambda: session, MAPPING, ListQuery(text="omega"), raw_page_size=10)
    assert await whole.count() == 8  # all of them in the first rows read: counted without doubles


async def test_the_search_with_the_coupled_filter(session: SyncSession, sandbox_app: Starlette) -> None:
    text = _seed_search(sandbox_app)
    pairs = await coupled_customers(session, sandbox_app, 2)
    coupled_ids = {p.bc_id for p in pairs}
    expected = [i for i in _expected(sandbox_app, text, lambda c: c["number"]) if i not in coupled_ids]
    not_coupled = BcList(lambda: session, MAPPING, ListQuery(text=text, coupled=CoupledFilter.NOT_COUPLED))
    assert [r.key for r in await not_coupled.page(0, 10)] == expected


async def test_look_ups_by_text_ignore_case_on_either_tenant(session: SyncSession, sandbox_app: Starlette) -> None:
    customer = _customers(sandbox_app)[1]
    rows = await rows_where(BC_SIDE, session, BcCustomer, "displayName", [customer["displayName"].swapcase()])
    assert [r["id"] for r in rows] == [customer["id"]]
    rows = await rows_where(BC_SIDE, session, BcCustomer, "email", [customer["email"].upper()])
    assert [r["id"] for r in rows] == [customer["id"]]
    # Numbers are Code fields (upper-cased by BC); one typed in lower case is found all the same.
    contact = next(iter(store_of(sandbox_app).rows("bc/contacts")))
    rows = await rows_where(BC_SIDE, session, BcContact, "number", [contact["number"].lower()])
    assert [r["id"] for r in rows] == [contact["id"]]
    [resolved] = await resolve_numbers(session, MAPPING, [customer["number"]])
    assert resolved.id == customer["id"] and resolved.name == customer["displayName"]
