"""A conflict in the app (docs/coupling-and-sync.md "A conflict's state"): the list and the errors screen
call it a conflict, once; resolving it from the errors screen with the keyboard removes the row
and the list then says synced, checked against the sandbox's data and the coupling database."""

from __future__ import annotations

from starlette.applications import Starlette

from bc_tui.domain.outcomes import Outcome
from bc_tui.store.coupling_queries import get_coupling
from bc_tui.store.records import SyncResult
from bc_tui.sync.modified import synchronize_modified
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, edit_bc
from tests.tui.pilot_waits import SIZE, job_done, screen_is, screen_text, wait_for
from tests.tui.test_tui_lists import customers, settle
from tests.tui.test_tui_log_errors import cursor_to, listed, open_errors


async def test_a_conflict_resolved_on_the_errors_screen_is_gone_everywhere(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    [pair] = await coupled_customers(session, sandbox_app, 1)
    edit_bc(sandbox_app, pair.bc_id, city="Springfield")
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Shelbyville")
    found = await synchronize_modified(session, MAPPING)
    assert [r.outcome for r in found.results] == [Outcome.CONFLICT]

    async with tui_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")  # coupled records only: the pair is the first row
        await settle(pilot)
        row = customers(tui_app).row_at(0)
        assert row.key == pair.bc_id and row.cells["state"] == "conflict"

        await open_errors(tui_app, pilot)
        screen = tui_app.screen
        assert [(r.coupling_id, str(r.kind)) for r in screen.rows] == [(pair.id, "conflict")]
        assert "1 coupling needs attention: 0 skipped, 1 conflict, 0 failed, 0 broken." in screen_text(tui_app)
        assert "City changed on both sides" in screen_text(tui_app)

        # Synchronize, Dataverse wins ("2": get).
        await cursor_to(pilot, screen, pair.id)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_is(tui_app, "DirectionDialog"))
        await pilot.press("2")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen"))
        await wait_for(pilot, lambda: pair.id not in listed(screen))
        assert screen.rows == []
        assert "No couplings need attention." in screen_text(tui_app)

        # The sandbox holds Dataverse's city on both sides; the coupling remembers no problem.
        assert bc_row(sandbox_app, pair.bc_id)["city"] == "Shelbyville"
        assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] == "Shelbyville"
        coupling = get_coupling(pair.id)
        assert (coupling.to_dataverse_result, coupling.from_dataverse_result) == (
            SyncResult.SUCCESS,
            SyncResult.SUCCESS,
        )
        assert not (coupling.conflict or coupling.failed or coupling.skipped)

        # Back on the list, the pair reads synced, as the card says.
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await pilot.press("f5")
        await settle(pilot)
        assert customers(tui_app).row_at(0).cells["state"] == "synced"
