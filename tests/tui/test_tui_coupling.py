"""Set Up Coupling (keyboard only, on the in-process sandbox): the type-ahead lookup, Create New,
Synchronize After Coupling, and every refusal shown inside the dialog."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from textual.widgets import Input, Select

from bc_tui.store.coupling_queries import get_by_bc_id, get_by_dataverse_id
from bc_tui.store.coupling_writes import couple
from bc_tui.store.jobs import JobStatus, JobType, list_jobs
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.coupling import CouplingDialog
from bc_tui.tui.screens.card import CardScreen
from tests.tui.flow_host import (
    SNAPSHOT_SIZE,
    FlowHost,
    erase,
    hold_cursor_shown,
    press_and_settle,
    settle,
    type_text,
    unstarted_backend,
    use_snapshot_folder,
)

pytestmark = pytest.mark.timeout(60)

SIZE = (120, 40)
MAPPING = "CUSTOMER"


def customer(sandbox_app: Starlette, number: str) -> dict[str, Any]:
    """The sandbox's BC customer with ``number``."""
    return next(r for r in sandbox_app.state.store.rows("bc/customers") if r["number"] == number)


def accounts_named(sandbox_app: Starlette, name: str) -> list[dict[str, Any]]:
    """The sandbox's Dataverse accounts called ``name``."""
    return [r for r in sandbox_app.state.store.rows("dv/accounts") if r.get("name") == name]


async def open_dialog(pilot: Any) -> CouplingDialog:
    """From the card, press c and wait for the dialog to load."""
    await press_and_settle(pilot, "c")
    dialog = pilot.app.screen
    assert isinstance(dialog, CouplingDialog)
    return dialog


async def test_couple_by_type_ahead_lookup(tui_backend: Backend, sandbox_app: Starlette) -> None:
    trey = customer(sandbox_app, "20000")
    [account] = accounts_named(sandbox_app, "Trey Research")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, trey["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        assert str(dialog.query_one("#coupling-bc-name").content) == "customer 20000 Trey Research"
        # Default for an uncoupled record of a bidirectional mapping: use the BC data.
        assert dialog.query_one("#coupling-sync-after", Select).value == "to-dataverse"

        await type_text(pilot, "Trey")
        assert [m.name for m in dialog.matches] == ["Trey Imports AG", "Trey Research"]
        await press_and_settle(pilot, "down", "down")
        assert dialog.chosen is not None and dialog.chosen.name == "Trey Research"
        assert dialog.query_one("#coupling-name", Input).value == "Trey Research"
        await press_and_settle(pilot, "enter")
        await settle(pilot)

        card = app.screen
        assert isinstance(card, CardScreen)
        assert str(card.query_one("#card-dataverse-name").content) == "account Trey Research"
        assert card.changed  # reported to the list when the card closes
    coupling = get_by_bc_id(MAPPING, trey["id"])
    assert coupling is not None and coupling.dataverse_id == account["accountid"]
    # Synchronize After Coupling (BC data) ran: the account now matches the customer and the
    # coupling remembers a successful synchronization.
    assert coupling.to_dataverse_result is not None and coupling.to_dataverse_result.value == "success"


async def test_couple_by_typed_name_without_picking(tui_backend: Backend, sandbox_app: Starlette) -> None:
    """enter on a typed name: exact match first, then prefix (docs/coupling-and-sync.md "Set Up Coupling")."""
    adatum = customer(sandbox_app, "10000")
    [account] = accounts_named(sandbox_app, "Adatum Corporation")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, adatum["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        # No synchronization after coupling this time: tab back to the select and choose "No".
        dialog.query_one("#coupling-sync-after", Select).value = "no"
        await type_text(pilot, "Adatum Corp")
        await press_and_settle(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
    coupling = get_by_bc_id(MAPPING, adatum["id"])
    assert coupling is not None and coupling.dataverse_id == account["accountid"]
    assert coupling.to_dataverse_result is None


async def test_create_new_creates_an_account_and_couples_it(tui_backend: Backend, sandbox_app: Starlette) -> None:
    record = customer(sandbox_app, "30000")
    before = len(accounts_named(sandbox_app, record["displayName"]))
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, record["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        await type_text(pilot, "Trey")
        # tab: the matches, then Create New; space ticks it (and moves to OK); enter creates.
        await press_and_settle(pilot, "tab", "tab", "space")
        assert dialog.create_new
        assert dialog.query_one("#coupling-name", Input).value == ""
        assert dialog.query_one("#coupling-sync-after", Select).disabled
        await press_and_settle(pilot, "enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
        assert str(app.screen.query_one("#card-dataverse-name").content) == f"account {record['displayName']}"
    created = accounts_named(sandbox_app, record["displayName"])
    assert len(created) == before + 1
    coupling = get_by_bc_id(MAPPING, record["id"])
    assert coupling is not None and coupling.dataverse_id in {a["accountid"] for a in created}


async def test_unticking_create_new_restores_the_choice(tui_backend: Backend, sandbox_app: Starlette) -> None:
    record = customer(sandbox_app, "20000")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, record["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        await type_text(pilot, "Trey")
        await press_and_settle(pilot, "down", "down")
        await press_and_settle(pilot, "tab", "tab", "space")
        assert dialog.create_new and dialog.chosen is None
        await press_and_settle(pilot, "shift+tab", "space")
        assert not dialog.create_new
        assert dialog.query_one("#coupling-name", Input).value == "Trey Research"
        assert dialog.chosen is not None and dialog.chosen.name == "Trey Research"
        assert dialog.query_one("#coupling-sync-after", Select).value == "to-dataverse"
        await press_and_settle(pilot, "escape")
        assert isinstance(app.screen, CardScreen)
    assert get_by_bc_id(MAPPING, record["id"]) is None


async def test_refusals_are_shown_inside_the_dialog(tui_backend: Backend, sandbox_app: Starlette) -> None:
    adatum, trey = customer(sandbox_app, "10000"), customer(sandbox_app, "20000")
    [adatum_account] = accounts_named(sandbox_app, "Adatum Corporation")
    couple(MAPPING, adatum["id"], adatum_account["accountid"])
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, trey["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)

        await type_text(pilot, "Nobody")
        await press_and_settle(pilot, "enter")
        assert app.screen is dialog
        assert dialog.message == "A record with the name Nobody does not exist in Dataverse."
        assert dialog.query_one("#coupling-message").has_class("error")

        # The account is coupled to another customer: one-to-one, refused with a sentence.
        await erase(pilot, len("Nobody"))
        await type_text(pilot, "Adatum")
        assert dialog.matches and dialog.matches[0].coupled
        await press_and_settle(pilot, "down", "enter")
        assert app.screen is dialog
        assert "already coupled" in dialog.message

        await press_and_settle(pilot, "escape")
        assert isinstance(app.screen, CardScreen)
    assert get_by_bc_id(MAPPING, trey["id"]) is None
    assert get_by_bc_id(MAPPING, adatum["id"]).dataverse_id == adatum_account["accountid"]
    # The log: the refusal is the record's failure in a finished job, with its sentence; no crash.
    [refused] = list_jobs(job_type=JobType.COUPLING)
    assert refused.status is JobStatus.FINISHED and refused.failed == 1
    assert "already coupled" in refused.message


async def test_recoupling_a_coupled_record_to_another_account(tui_backend: Backend, sandbox_app: Starlette) -> None:
    trey = customer(sandbox_app, "20000")
    [research] = accounts_named(sandbox_app, "Trey Research")
    [imports] = accounts_named(sandbox_app, "Trey Imports AG")
    couple(MAPPING, trey["id"], research["accountid"])
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, trey["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        # Already coupled: the current name is shown and the default is not to synchronize.
        assert dialog.query_one("#coupling-name", Input).value == "Trey Research"
        assert dialog.sync_after is None
        await erase(pilot, len("Research"))
        await type_text(pilot, "Imp")
        await press_and_settle(pilot, "down", "enter")
        assert isinstance(app.screen, CardScreen), (dialog.message, dialog.matches)
    assert get_by_bc_id(MAPPING, trey["id"]).dataverse_id == imports["accountid"]
    assert get_by_dataverse_id(MAPPING, research["accountid"]) is None


# --- snapshot ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _snapshot_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    use_snapshot_folder(monkeypatch)


def test_coupling_dialog_snapshot(
    snap_compare: Any, sandbox_app: Starlette, sandbox_info: dict[str, Any], tui_database_url: str
) -> None:
    """The dialog after typing "Trey" and picking Trey Research: matches, choice, field preview."""
    backend = unstarted_backend(sandbox_app, sandbox_info, tui_database_url)
    trey = customer(sandbox_app, "20000")
    app = FlowHost(backend, own_backend=True, start=lambda: CardScreen(MAPPING, trey["id"]))

    async def pick(pilot: Any) -> None:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        # A steady cursor: a blink caught mid-way under load would change the picture.
        dialog.query_one("#coupling-name", Input).cursor_blink = False
        await type_text(pilot, "Trey")
        await press_and_settle(pilot, "down", "down")
        hold_cursor_shown(app)

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=pick)
