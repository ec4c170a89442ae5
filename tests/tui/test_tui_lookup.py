"""The coupling dialog's lookup, keyboard only, on the in-process sandbox (docs/coupling-and-sync.md
"The lookup"): a contains-search that shows the city, the count when the list is capped, a name
with a quote, and a one-to-one refusal that names records by number and name."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.applications import Starlette
from textual.widgets import OptionList, Select

from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.coupling_writes import couple
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.coupling import CouplingDialog
from bc_tui.tui.screens.card import CardScreen
from tests.tui.flow_host import FlowHost, press_and_settle, settle, type_text
from tests.tui.test_tui_coupling import MAPPING, SIZE, customer, open_dialog

pytestmark = pytest.mark.timeout(60)


def account(sandbox_app: Starlette, name: str) -> dict[str, Any]:
    """The sandbox's Dataverse account called ``name``."""
    return next(r for r in sandbox_app.state.store.rows("dv/accounts") if r.get("name") == name)


def add_account(sandbox_app: Starlette, name: str, **changes: Any) -> dict[str, Any]:
    """A copy of a demo customer account under a new id and ``name``, stored in the sandbox."""
    template = account(sandbox_app, "Trey Research")
    key = str(uuid.uuid4())
    return sandbox_app.state.store.insert("dv/accounts", key, {**template, "accountid": key, "name": name, **changes})


async def pick(pilot: Any, dialog: CouplingDialog, name: str) -> None:
    """Move down the candidates (↓ from the name field) until ``name`` is chosen."""
    index = [m.name for m in dialog.matches].index(name)
    await press_and_settle(pilot, *["down"] * (index + 1))
    assert dialog.chosen is not None and dialog.chosen.name == name


async def test_motors_finds_names_that_contain_it_and_shows_their_city(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    school = customer(sandbox_app, "30000")
    silverline = account(sandbox_app, "Silverline Motors")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, school["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        await type_text(pilot, "Motors")
        # Found by contains: "Motors" is the second word of every name, never the first.
        assert "Silverline Motors" in [m.name for m in dialog.matches]
        assert all("Motors" in m.name and not m.name.startswith("Motors") for m in dialog.matches)
        shown = dialog.query_one("#coupling-matches", OptionList)
        row = str(shown.get_option(silverline["accountid"]).prompt)
        assert "Seattle" in row and silverline["emailaddress1"] in row
        assert shown.border_subtitle == f"{len(dialog.matches)} matches"
        await pick(pilot, dialog, "Silverline Motors")
        assert dialog.query_one("#coupling-sync-after", Select).value == "to-dataverse"
        await press_and_settle(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
    coupling = get_by_bc_id(MAPPING, school["id"])
    assert coupling is not None and coupling.dataverse_id == silverline["accountid"]
    # Synchronize After Coupling sent the Business Central data to the account in the sandbox.
    synced = sandbox_app.state.store.get("dv/accounts", silverline["accountid"])
    assert synced["name"] == school["displayName"] and synced["address1_city"] == school["city"]


async def test_a_capped_lookup_says_how_many_match_in_all(tui_backend: Backend, sandbox_app: Starlette) -> None:
    for n in range(25):
        add_account(sandbox_app, f"Capped Motors {n:02}")
    total = sum("Motors" in (r.get("name") or "") for r in sandbox_app.state.store.rows("dv/accounts"))
    school = customer(sandbox_app, "30000")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, school["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        await type_text(pilot, "Motors")
        assert len(dialog.matches) == 20
        # Ten candidates in view at 120×40, the rest a scroll away.
        assert dialog.query_one("#coupling-matches", OptionList).scrollable_content_region.height == 10
        assert dialog.query_one("#coupling-matches", OptionList).border_subtitle == f"20 of {total} — keep typing"
        assert dialog.message == f"20 of {total} — keep typing: ↓ ↑ pick one, enter couples."
        await type_text(pilot, " 2")
        assert [m.name for m in dialog.matches] == [f"Capped Motors {n}" for n in range(20, 25)]
        assert dialog.query_one("#coupling-matches", OptionList).border_subtitle == "5 matches"


async def test_a_name_with_a_quote_is_found_and_coupled(tui_backend: Backend, sandbox_app: Starlette) -> None:
    margies = add_account(sandbox_app, "Margie's Travel Motors", accountnumber="MT-7")
    school = customer(sandbox_app, "30000")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, school["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        dialog.query_one("#coupling-sync-after", Select).value = "no"
        await type_text(pilot, "gie's Tra")
        assert [(m.name, m.number) for m in dialog.matches] == [("Margie's Travel Motors", "MT-7")]
        await press_and_settle(pilot, "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
    coupling = get_by_bc_id(MAPPING, school["id"])
    assert coupling is not None and coupling.dataverse_id == margies["accountid"]


async def test_the_one_to_one_refusal_names_records_by_number_and_name(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    adatum, trey = customer(sandbox_app, "10000"), customer(sandbox_app, "20000")
    adatum_account = account(sandbox_app, "Adatum Corporation")
    couple(MAPPING, adatum["id"], adatum_account["accountid"], bc_number="10000", display_name="Adatum Corporation")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, trey["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        await type_text(pilot, "datum")
        [candidate] = [m for m in dialog.matches if m.id == adatum_account["accountid"]]
        assert candidate.coupled_to == "customer 10000 Adatum Corporation"
        row = str(dialog.query_one("#coupling-matches", OptionList).get_option(candidate.id).prompt)
        assert row.rstrip().endswith("coupled to customer 10000 Adatum Corporation")
        await pick(pilot, dialog, "Adatum Corporation")
        await press_and_settle(pilot, "enter")
        assert app.screen is dialog
        assert dialog.message == (
            "The Dataverse account Adatum Corporation is already coupled to the Business Central customer "
            "10000 Adatum Corporation in CUSTOMER; delete that coupling first."
        )
        assert adatum_account["accountid"] not in dialog.message
    assert get_by_bc_id(MAPPING, trey["id"]) is None
