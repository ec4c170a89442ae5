"""No SQL on the UI loop: the main journeys of the app, driven with the keyboard while the UI
thread is declared free of database access (store/database.py
``queries_forbidden_on_current_thread``). Every store call must go through the session's
database thread (``session.db``); a call on the UI thread would be refused and recorded.

The problems and couplings the journeys need are made before the guard is set (the test's own
store calls run on the UI thread too); what the journeys did is checked through ``session.db``.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling
from bc_tui.store.database import queries_forbidden_on_current_thread
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.confirm import ConfirmDialog
from bc_tui.tui.dialogs.coupling import CouplingDialog
from bc_tui.tui.dialogs.direction import DirectionDialog
from bc_tui.tui.dialogs.job import JobScreen
from bc_tui.tui.screens.card import CardScreen
from tests.sync.coupled_pairs import MAPPING, account_row, coupled_customers, edit_bc
from tests.tui.flow_host import FlowHost, press_and_settle, settle, type_text
from tests.tui.pilot_waits import SIZE, job_done, screen_is, screen_text, wait_for
from tests.tui.test_tui_log_errors import (
    close_job,
    cursor_to,
    listed,
    make_broken,
    make_skipped,
    open_errors,
)

pytestmark = pytest.mark.timeout(90)


async def finish_job(pilot: Any) -> None:
    """Wait for the job dialog to end, then close it with enter."""
    await wait_for(pilot, lambda: job_done(pilot.app), seconds=20)
    assert isinstance(pilot.app.screen, JobScreen), pilot.app.screen
    await press_and_settle(pilot, "enter")
    await settle(pilot)


async def test_lists_synchronize_many_and_the_log_run_no_sql_on_the_ui_thread(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    pairs = await coupled_customers(session, sandbox_app, 3)
    for index, pair in enumerate(pairs):
        edit_bc(sandbox_app, pair.bc_id, phoneNumber=f"+1 555 030{index}")

    with queries_forbidden_on_current_thread() as refused:
        async with tui_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            customers = tui_app.main_screen.record_list("customers")
            assert customers is not None
            # The list pages with each row's coupling (read from the store).
            await press_and_settle(pilot, "pagedown", "pagedown", "home")
            assert customers.row_at(0) is not None
            await press_and_settle(pilot, "f")  # coupled only: the rows come from the store's couplings
            assert {customers.row_at(i).key for i in range(3)} == {p.bc_id for p in pairs}
            assert {customers.row_at(i).cells["state"] for i in range(3)} == {"changed in BC"}

            # Synchronize many, with progress, from marked rows.
            await press_and_settle(pilot, "space", "space", "space")
            await press_and_settle(pilot, "s")
            assert isinstance(tui_app.screen, DirectionDialog)
            await press_and_settle(pilot, "1")
            await finish_job(pilot)

            # The log screen and the errors of a job.
            await pilot.press("L")
            await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen"))
            log = tui_app.screen
            await wait_for(pilot, lambda: bool(log.jobs))
            assert "finished" in screen_text(tui_app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: log.open_job_id == log.jobs[0].id)
            await pilot.press("escape", "escape")
            await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        assert refused == []
    for index, pair in enumerate(pairs):
        assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == f"+1 555 030{index}"
    latest = (await session.db(jobs.list_jobs, limit=1))[0]
    assert latest.modified == 3


async def test_errors_screen_actions_run_no_sql_on_the_ui_thread(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    skipped, restored, uncoupled = await coupled_customers(session, sandbox_app, 3)
    await make_skipped(session, sandbox_app, skipped)
    await make_broken(session, sandbox_app, restored)
    await make_broken(session, sandbox_app, uncoupled)

    with queries_forbidden_on_current_thread() as refused:
        async with tui_app.run_test(size=SIZE) as pilot:
            await open_errors(tui_app, pilot)
            screen = tui_app.screen
            assert listed(screen) == {skipped.id, restored.id, uncoupled.id}

            await cursor_to(pilot, screen, skipped.id)
            await pilot.press("r")  # retry: a synchronization job, right away
            await close_job(tui_app, pilot)
            await wait_for(pilot, lambda: "failed" in {row.kind for row in screen.rows})

            await cursor_to(pilot, screen, restored.id)
            await pilot.press("t")  # restore: a creation job
            await close_job(tui_app, pilot)
            await wait_for(pilot, lambda: restored.id not in listed(screen))

            await cursor_to(pilot, screen, uncoupled.id)
            await pilot.press("d")  # delete coupling
            await wait_for(pilot, lambda: uncoupled.id not in listed(screen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        assert refused == []
    assert not (await session.db(get_coupling, skipped.id)).skipped
    assert await session.db(get_coupling, uncoupled.id) is None
    coupling = await session.db(get_by_bc_id, MAPPING, restored.bc_id)
    assert coupling is not None and not coupling.broken


async def test_card_couple_synchronize_and_delete_coupling_run_no_sql_on_the_ui_thread(
    tui_backend: Backend, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    trey = next(r for r in sandbox_app.state.store.rows("bc/customers") if r["number"] == "20000")
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, trey["id"]))

    with queries_forbidden_on_current_thread() as refused:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # Couple (with Synchronize After Coupling) by the type-ahead lookup.
            await press_and_settle(pilot, "c")
            assert isinstance(app.screen, CouplingDialog)
            await type_text(pilot, "Trey Research")
            await press_and_settle(pilot, "down", "enter")
            await settle(pilot)
            card = app.screen
            assert isinstance(card, CardScreen)
            assert str(card.query_one("#card-dataverse-name").content) == "account Trey Research"

            # Synchronize one record from the card.
            edit_bc(sandbox_app, trey["id"], city="Springfield")
            await press_and_settle(pilot, "f5")
            await press_and_settle(pilot, "s")
            assert isinstance(app.screen, DirectionDialog)
            await press_and_settle(pilot, "1")
            await finish_job(pilot)

            # Delete the coupling.
            await press_and_settle(pilot, "d")
            assert isinstance(app.screen, ConfirmDialog)
            await press_and_settle(pilot, "enter")
            await finish_job(pilot)
            assert str(app.screen.query_one("#card-dataverse-name").content) == "not coupled"
        assert refused == []
    assert await session.db(get_by_bc_id, MAPPING, trey["id"]) is None
    [account] = [r for r in sandbox_app.state.store.rows("dv/accounts") if r.get("name") == "Trey Research"]
    assert account["address1_city"] == "Springfield"
