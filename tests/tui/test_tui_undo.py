"""Undo from the job dialog (docs/undo-and-history.md "Undo"): at the end of a synchronization
job, ``u`` asks as the log's ``u`` does and runs the undo; asserted on the sandbox's data."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.tui.backend import Backend
from tests.sync.coupled_pairs import account_row, bc_row, edit_bc
from tests.tui.flow_host import couple_listed_customers, press_and_settle, settle
from tests.tui.pilot_waits import job_done, screen_is, screen_text, wait_for

pytestmark = pytest.mark.timeout(60)

SIZE = (120, 40)
MAPPING = "CUSTOMER"


async def test_undo_the_job_just_run_from_its_summary(
    tui_app: Any, tui_backend: Backend, sandbox_app: Starlette
) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pairs = await couple_listed_customers(tui_app, tui_backend.session, 3)
        before = [account_row(sandbox_app, p.dataverse_id)["telephone1"] for p in pairs]
        for index, pair in enumerate(pairs):
            edit_bc(sandbox_app, pair.bc_id, phoneNumber=f"+1 555 030{index}")
        await press_and_settle(pilot, "space", "space", "space", "s", "1")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        sent = tui_app.screen.summary
        assert sent.count("modified") == 3
        assert [account_row(sandbox_app, p.dataverse_id)["telephone1"] for p in pairs] == [
            f"+1 555 030{index}" for index in range(3)
        ]
        assert tui_app.screen.check_action("undo_job", ()) is True

        await pilot.press("u")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        assert f"Undo job {sent.job_id}?" in screen_text(tui_app)
        assert "The 3 records it changed get the values they had before it." in screen_text(tui_app)
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(tui_app) and tui_app.screen.summary.job_id != sent.job_id, seconds=20)
        assert f"Undo of job {sent.job_id}: 3 records put back" in screen_text(tui_app)
        await press_and_settle(pilot, "enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))

    assert [account_row(sandbox_app, p.dataverse_id)["telephone1"] for p in pairs] == before
    # Business Central keeps its edits: the undo put back only what the job wrote.
    assert [bc_row(sandbox_app, p.bc_id)["phoneNumber"] for p in pairs] == [f"+1 555 030{n}" for n in range(3)]


async def test_a_job_that_wrote_nothing_offers_no_undo(
    tui_app: Any, tui_backend: Backend, sandbox_app: Starlette
) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        [pair] = await couple_listed_customers(tui_app, tui_backend.session, 1)
        account = dict(account_row(sandbox_app, pair.dataverse_id))
        await press_and_settle(pilot, "space", "s", "1")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        assert tui_app.screen.summary.count("modified") == 0
        assert tui_app.screen.check_action("undo_job", ()) is False

        await press_and_settle(pilot, "u")  # not bound now: nothing is asked, the summary stays
        assert job_done(tui_app)
    assert account_row(sandbox_app, pair.dataverse_id) == account


async def test_force_a_field_changed_since_from_the_records_history(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    from textual.widgets import DataTable

    from bc_tui.domain.mappings import SyncDirection
    from bc_tui.sync.synchronize import synchronize_one
    from bc_tui.tui.screens.card import CardScreen
    from bc_tui.tui.screens.history import HistoryScreen
    from tests.sync.coupled_pairs import coupled_customers, edit_account
    from tests.tui.flow_host import FlowHost

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    old_city = account_row(sandbox_app, pair.dataverse_id)["address1_city"]
    edit_bc(sandbox_app, pair.bc_id, city="Springfield", phoneNumber="+1 555 0142")
    sent = await synchronize_one(tui_backend.session, MAPPING, pair.bc_id, SyncDirection.TO_DATAVERSE)
    assert sent.counters["modified"] == 1
    # Both fields the job wrote are changed in Dataverse since: u alone would leave the record.
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Ogdenville", telephone1="+1 555 0999")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press_and_settle(pilot, "h")
        history = app.screen
        assert isinstance(history, HistoryScreen) and history.entries[0].job_id == sent.job_id
        table = history.query_one("#history-table", DataTable)
        labels = [str(table.get_row_at(n)[5]) for n in range(len(history.entries[0].fields))]
        await press_and_settle(pilot, *["down"] * labels.index("City"))
        await pilot.press("F")
        await wait_for(pilot, lambda: screen_is(app, "ConfirmDialog"))
        assert f"Undo job {sent.job_id} for customer" in screen_text(app) and ", forcing City?" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(app), seconds=20)
        assert "City put back as forced, Phone No. kept as changed since." in str(app.screen.summary.results[0].message)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(app, "HistoryScreen") and history.entries[0].job_id != sent.job_id)

    account = account_row(sandbox_app, pair.dataverse_id)
    assert (account["address1_city"], account["telephone1"]) == (old_city, "+1 555 0999")
