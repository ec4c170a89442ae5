"""The card (keyboard only, on the in-process sandbox): the BC record beside its coupled Dataverse
record, the three-way diff per field, and the card's keys."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from textual.widgets import DataTable

from bc_tui.domain.diff import FieldState
from bc_tui.domain.sync_state import FIELD_STATE_LABELS
from bc_tui.tui.backend import Backend
from bc_tui.tui.screens.card import NOT_COUPLED, CardScreen
from tests.sync.coupled_pairs import coupled_customers, edit_account, edit_bc, next_second
from tests.tui.flow_host import (
    SNAPSHOT_SIZE,
    FlowHost,
    press_and_settle,
    settle,
    unstarted_backend,
    use_snapshot_folder,
)

pytestmark = pytest.mark.timeout(60)

SIZE = (120, 40)
MAPPING = "CUSTOMER"


def customer(sandbox_app: Starlette, number: str) -> dict[str, Any]:
    """The sandbox's BC customer with ``number``."""
    return next(r for r in sandbox_app.state.store.rows("bc/customers") if r["number"] == number)


def cell_text(card: CardScreen, label: str, column: str) -> str:
    """What the card's field table shows for ``label`` in ``column`` (bc, dataverse, state, last)."""
    table = card.query_one("#card-fields", DataTable)
    return str(table.get_cell(label, column))


async def test_card_of_an_uncoupled_customer_says_not_coupled(tui_backend: Backend, sandbox_app: Starlette) -> None:
    record = customer(sandbox_app, "10000")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, record["id"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen
        assert isinstance(card, CardScreen)
        assert str(card.query_one("#card-bc-name").content) == "customer 10000 Adatum Corporation"
        assert str(card.query_one("#card-dataverse-name").content) == NOT_COUPLED
        assert "is not coupled to Dataverse; press c" in card.summary
        # The BC values are there, one row per field mapping.
        assert cell_text(card, "Name", "bc") == "Adatum Corporation"
        assert cell_text(card, "City", "bc") == record["city"]


async def test_card_shows_the_three_way_diff_of_a_coupled_customer(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0100")
    edit_account(sandbox_app, pair.dataverse_id, emailaddress1="sales@adatum.example.com")
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen
        assert str(card.query_one("#card-dataverse-name").content) == "account Adatum Corporation"
        assert cell_text(card, "Phone No.", "state") == FIELD_STATE_LABELS[FieldState.CHANGED_IN_BC]
        assert cell_text(card, "E-Mail", "state") == FIELD_STATE_LABELS[FieldState.CHANGED_IN_DATAVERSE]
        # A conflict also names its picked winner (the recommended one until the user picks).
        assert cell_text(card, "City", "state").startswith(FIELD_STATE_LABELS[FieldState.CONFLICT] + ": ")
        values = (cell_text(card, "City", "bc"), cell_text(card, "City", "dataverse"))
        assert values in (("✓ Springfield", "Shelbyville"), ("Springfield", "✓ Shelbyville"))  # ✓: the winner
        # The value both sides held at the last synchronization, where it helps.
        assert cell_text(card, "City", "last") == "Denver"
        assert cell_text(card, "Name", "state") == ""
        assert "City changed on both sides to different values." in card.summary
        # Each state has its own style (theme colours), so the diff stands out.
        table = card.query_one("#card-fields")
        styles = {str(table.get_cell(label, "state").style) for label in ("Phone No.", "E-Mail", "City")}
        assert len(styles) == 3


async def test_card_refresh_shows_a_change_made_meanwhile(tui_backend: Backend, sandbox_app: Starlette) -> None:
    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen
        assert "nothing to synchronize" in card.summary
        edit_account(sandbox_app, pair.dataverse_id, telephone1="+1 555 0199")
        await press_and_settle(pilot, "f5")
        assert cell_text(card, "Phone No.", "dataverse") == "+1 555 0199"
        assert cell_text(card, "Phone No.", "state") == FIELD_STATE_LABELS[FieldState.CHANGED_IN_DATAVERSE]


async def test_card_of_a_missing_record_shows_a_sentence(tui_backend: Backend) -> None:
    missing = "00000000-0000-0000-0000-000000000001"
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, missing))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        card = app.screen
        assert isinstance(card, CardScreen)
        assert card.error is not None and "does not exist in Business Central" in card.error
        assert card.summary == card.error
        assert card.has_class("card") and card.query_one("#card-summary").has_class("error")


async def test_card_opens_the_records_log_and_goes_back(tui_backend: Backend, sandbox_app: Starlette) -> None:
    from bc_tui.tui.screens.log import LogScreen

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "L")
        assert isinstance(app.screen, LogScreen)
        await press_and_settle(pilot, "escape")
        assert isinstance(app.screen, CardScreen)
        await press_and_settle(pilot, "escape")
        assert not isinstance(app.screen, CardScreen)


async def test_card_shows_the_records_history(tui_backend: Backend, sandbox_app: Starlette) -> None:
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_one
    from bc_tui.tui.screens.history import HistoryScreen

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    old_city = sandbox_app.state.store.get("dv/accounts", pair.dataverse_id)["address1_city"]
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    sent = await synchronize_one(tui_backend.session, MAPPING, pair.bc_id, SyncDirection.TO_DATAVERSE)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "h")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        assert history.entries[0].job_id == sent.job_id
        table = history.query_one("#history-table", DataTable)
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[1:] == [str(sent.job_id), "Synchronization", "send", "Dataverse", "City", old_city, "Springfield"]
        assert "History of customer" in str(history.query_one("#log-title").content)
        await press_and_settle(pilot, "escape")
        assert isinstance(app.screen, CardScreen)


async def test_undo_one_record_of_a_job_from_its_history(tui_backend: Backend, sandbox_app: Starlette) -> None:
    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_many
    from bc_tui.tui.screens.history import HistoryScreen
    from tests.tui.pilot_waits import job_done, screen_is, screen_text, wait_for

    mine, other = await coupled_customers(tui_backend.session, sandbox_app, 2)
    accounts = sandbox_app.state.store
    old_city = accounts.get("dv/accounts", mine.dataverse_id)["address1_city"]
    for pair in (mine, other):
        edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    sent = await synchronize_many(tui_backend.session, MAPPING, [mine.bc_id, other.bc_id], SyncDirection.TO_DATAVERSE)
    assert sent.counters["modified"] == 2
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, mine.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "h")
        history = app.screen
        assert isinstance(history, HistoryScreen) and history.entries[0].job_id == sent.job_id
        await pilot.press("u")
        await wait_for(pilot, lambda: screen_is(app, "ConfirmDialog"))
        assert f"Undo job {sent.job_id} for customer" in screen_text(app)
        assert "The record it changed gets the values it had before it." in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(app), seconds=20)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(app, "HistoryScreen") and history.entries[0].job_id != sent.job_id)

    assert accounts.get("dv/accounts", mine.dataverse_id)["address1_city"] == old_city
    assert accounts.get("dv/accounts", other.dataverse_id)["address1_city"] == "Springfield"  # not this record


# --- snapshots -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _snapshot_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    use_snapshot_folder(monkeypatch)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_card_snapshot(
    snap_compare: Any, sandbox_app: Starlette, sandbox_info: dict[str, Any], tui_database_url: str, theme: str
) -> None:
    """The card of a customer changed in BC (Phone No.), in Dataverse (E-Mail) and on both (City,
    with its recommended winner: Dataverse, changed last)."""
    backend = unstarted_backend(sandbox_app, sandbox_info, tui_database_url)
    app = FlowHost(backend, theme=theme, own_backend=True)

    async def open_card(pilot: Any) -> None:
        [pair] = await coupled_customers(backend.session, sandbox_app, 1)
        edit_bc(sandbox_app, pair.bc_id, phoneNumber="+1 555 0100", city="Springfield")
        await next_second()  # Dataverse changed last: its City is the recommended winner (★)
        edit_account(
            sandbox_app, pair.dataverse_id, emailaddress1="sales@adatum.example.com", address1_city="Shelbyville"
        )
        app.push_screen(CardScreen(MAPPING, pair.bc_id))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SNAPSHOT_SIZE, run_before=open_card)
