"""The coupling dialog's lookup (docs/coupling-and-sync.md "The lookup") against the in-process
sandbox: contains on the name, escaped; city, e-mail and the coupled record beside each candidate;
the count of all matches when the list is capped."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.applications import Starlette
from sync_demo import customers_with_twin, rows

from bc_tui.sync.couple import couple_record
from bc_tui.sync.lookup import search_dataverse
from bc_tui.sync.session import SyncSession


def active_accounts(app: Starlette) -> list[dict[str, Any]]:
    """Accounts inside the CUSTOMER integration table filter."""
    return [a for a in rows(app, "dv/accounts") if a["statecode"] == 0 and a["customertypecode"] == 3]


def add_account(app: Starlette, name: str, **changes: Any) -> dict[str, Any]:
    """A copy of a demo account under a new id and ``name`` (with ``changes``), in the sandbox."""
    template = active_accounts(app)[0]
    key = str(uuid.uuid4())
    return app.state.store.insert("dv/accounts", key, {**template, "accountid": key, "name": name, **changes})


async def test_lookup_finds_the_name_anywhere_and_shows_city_and_e_mail(session: SyncSession, sandbox_app) -> None:
    motors = sorted((a for a in active_accounts(sandbox_app) if "motors" in a["name"].lower()), key=lambda a: a["name"])
    assert any(not a["name"].startswith("Motors") for a in motors)  # the word is inside the names
    found = await search_dataverse(session, "CUSTOMER", "motors", limit=50)
    assert [c.name for c in found.found] == [a["name"] for a in motors]
    assert [(c.city, c.email) for c in found.found] == [(a["address1_city"], a["emailaddress1"]) for a in motors]
    assert found.total == len(motors) and not found.capped


async def test_a_coupled_candidate_names_its_business_central_record(session: SyncSession, sandbox_app) -> None:
    customer, account = customers_with_twin(sandbox_app)[0]
    await couple_record(session, "CUSTOMER", customer["id"], dataverse_id=account["accountid"])
    found = await search_dataverse(session, "CUSTOMER", account["name"][2:8])
    [candidate] = [c for c in found.found if c.id == account["accountid"]]
    assert candidate.coupled and candidate.coupled_to == f"customer {customer['number']} {customer['displayName']}"
    assert all(not c.coupled for c in found.found if c.id != account["accountid"])


async def test_a_capped_lookup_counts_every_match(session: SyncSession, sandbox_app) -> None:
    for n in range(25):
        add_account(sandbox_app, f"Capped Motors {n:02}")
    matching = [a for a in active_accounts(sandbox_app) if "motors" in a["name"].lower()]
    found = await search_dataverse(session, "CUSTOMER", "Motors", limit=20)
    assert len(found.found) == 20 and found.total == len(matching) and found.capped


async def test_a_quote_in_the_text_is_escaped_and_matches_literally(session: SyncSession, sandbox_app) -> None:
    added = add_account(sandbox_app, "Margie's Motors Ltd.", accountnumber="MM-1")
    found = await search_dataverse(session, "CUSTOMER", "ie's Mo")
    assert [(c.id, c.number) for c in found.found] == [(added["accountid"], "MM-1")]
    # Text that would widen the filter if it were not escaped finds nothing.
    assert (await search_dataverse(session, "CUSTOMER", "x') or (name ne '")).found == []


async def test_the_lookup_stays_inside_the_integration_table_filter(session: SyncSession, sandbox_app) -> None:
    add_account(sandbox_app, "Hidden Vendor Motors", customertypecode=11)
    inside = await search_dataverse(session, "CUSTOMER", "Hidden Vendor")
    anywhere = await search_dataverse(session, "CUSTOMER", "Hidden Vendor", within_filter=False)
    assert inside.found == [] and inside.total == 0
    assert [c.name for c in anywhere.found] == ["Hidden Vendor Motors"]


async def test_wildcards_in_the_text_are_matched_as_typed(session: SyncSession, sandbox_app) -> None:
    percent = add_account(sandbox_app, "Fifty 50% Motors")
    add_account(sandbox_app, "Fifty 500 Motors")
    under = add_account(sandbox_app, "Fifty A_B Motors")
    add_account(sandbox_app, "Fifty AxB Motors")
    assert [c.id for c in (await search_dataverse(session, "CUSTOMER", "50%")).found] == [percent["accountid"]]
    assert [c.id for c in (await search_dataverse(session, "CUSTOMER", "a_b")).found] == [under["accountid"]]
    assert (await search_dataverse(session, "CUSTOMER", "[%]")).found == []
