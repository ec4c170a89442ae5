"""Broken couplings found without a synchronization, and fixed from where they show: the
errors screen checks the couplings of the records in view, "check couplings" checks a whole
table mapping, and the fixes (restore, delete coupling, delete the surviving record) are offered
on the errors screen, the list and the card (docs/coupling-and-sync.md "Checking couplings
without a synchronization")."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling
from bc_tui.store.records import Side
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, store_of
from tests.tui.flow_host import couple_listed_customers
from tests.tui.pilot_waits import SIZE, job_done, screen_is, screen_text, snapshots_here, wait_for  # noqa: F401


async def loaded(app: BcTuiApp, pilot) -> None:
    """Wait until the customer list shows its first rows."""

    def first_row() -> bool:
        customers = app.main_screen.record_list("customers")
        return customers is not None and customers.row_at(0) is not None

    await wait_for(pilot, first_row)


async def cursor_to(pilot, screen, coupling_id: int) -> None:
    from textual.widgets import DataTable

    table = screen.query_one("#errors-table", DataTable)
    wanted = [row.coupling_id for row in screen.rows].index(coupling_id)
    step = "down" if wanted > table.cursor_row else "up"
    await pilot.press(*[step] * abs(wanted - table.cursor_row))
    assert screen.chosen[0].coupling_id == coupling_id


def listed(screen) -> set[int]:
    return {row.coupling_id for row in screen.rows}


async def close_job(app: BcTuiApp, pilot, back_to: str) -> None:
    await wait_for(pilot, lambda: job_done(app), seconds=20)
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_is(app, back_to))


async def test_the_errors_screen_finds_broken_couplings_without_a_sync_and_fixes_each_way(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await loaded(tui_app, pilot)
        restored, uncoupled, survivor, intact = await couple_listed_customers(tui_app, tui_backend.session, 4)
        for pair in (restored, uncoupled, survivor):
            store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
        tui_app.main_screen.refresh_lists()
        await loaded(tui_app, pilot)

        await pilot.press("E")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen") and tui_app.screen.loaded)
        screen = tui_app.screen
        # No synchronization ran since the accounts were deleted: the errors screen checked the
        # couplings of the customers in view and lists the three broken ones.
        assert listed(screen) == {restored.id, uncoupled.id, survivor.id}
        assert {row.kind for row in screen.rows} == {"broken"}
        assert "3 couplings need attention: 0 skipped, 0 conflicts, 0 failed, 3 broken." in screen_text(tui_app)
        assert get_coupling(survivor.id).deleted_side is Side.DATAVERSE
        assert not get_coupling(intact.id).broken

        # Restore: the account is created again from the customer and coupled.
        await cursor_to(pilot, screen, restored.id)
        await pilot.press("t")
        await close_job(tui_app, pilot, "ErrorsScreen")
        await wait_for(pilot, lambda: restored.id not in listed(screen))
        coupling = get_by_bc_id(MAPPING, restored.bc_id)
        assert coupling is not None and not coupling.broken
        assert (
            account_row(sandbox_app, coupling.dataverse_id)["name"]
            == bc_row(sandbox_app, restored.bc_id)["displayName"]
        )

        # Delete coupling: the coupling goes, the customer stays.
        await cursor_to(pilot, screen, uncoupled.id)
        await pilot.press("d")
        await wait_for(pilot, lambda: uncoupled.id not in listed(screen))
        assert get_coupling(uncoupled.id) is None and bc_row(sandbox_app, uncoupled.bc_id) is not None

        # Delete the surviving record (asked first): the customer and its coupling go.
        await cursor_to(pilot, screen, survivor.id)
        await pilot.press("D")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        await pilot.press("y")
        await close_job(tui_app, pilot, "ErrorsScreen")
        await wait_for(pilot, lambda: survivor.id not in listed(screen))
        assert get_coupling(survivor.id) is None and bc_row(sandbox_app, survivor.bc_id) is None
        assert listed(screen) == set()


async def test_check_couplings_over_a_mapping_with_progress_then_fix_from_the_list(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    from bc_tui.tui.dialogs.fixes import FixesDialog

    async with tui_app.run_test(size=SIZE) as pilot:
        await loaded(tui_app, pilot)
        pairs = await couple_listed_customers(tui_app, tui_backend.session, 5)
        gone_customer, uncoupled, survivor = pairs[0], pairs[1], pairs[2]
        store_of(sandbox_app).delete("bc/customers", gone_customer.bc_id)
        store_of(sandbox_app).delete("dv/accounts", uncoupled.dataverse_id)
        store_of(sandbox_app).delete("dv/accounts", survivor.dataverse_id)

        # Check couplings: the job dialog shows the progress; the summary says how many are broken.
        await pilot.press("C")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        dialog = tui_app.screen
        assert dialog.summary is not None and dialog.summary.count("unchanged") == 2
        assert dialog.summary.message == "Checked 5 couplings: 3 broken."
        assert dialog.progress.done == 5 and dialog.progress.total == 5
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        assert get_coupling(gone_customer.id).deleted_side is Side.BC
        assert get_coupling(uncoupled.id).deleted_side is Side.DATAVERSE
        assert "Checked 5 couplings: 3 broken." in screen_text(tui_app)

        # The list shows them broken; b offers the fixes of the cursor row's coupling.
        customers = tui_app.main_screen.record_list("customers")
        await wait_for(pilot, lambda: customers.row_at(0) is not None and customers.row_at(0).key == uncoupled.bc_id)
        assert customers.row_at(0).cells["state"] == "broken"
        await pilot.press("b")
        await wait_for(pilot, lambda: screen_is(tui_app, "FixesDialog"))
        assert "its Dataverse record was deleted" in tui_app.screen.what
        await pilot.press("d")
        await wait_for(pilot, lambda: get_coupling(uncoupled.id) is None)
        assert bc_row(sandbox_app, uncoupled.bc_id) is not None

        # s on a broken record opens the same fixes; D deletes the surviving customer (asked first).
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen") and customers.row_at(1) is not None)
        await pilot.press("down")
        assert customers.cursor_key == survivor.bc_id
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(tui_app.screen, FixesDialog))
        await pilot.press("D")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        await pilot.press("enter")
        await wait_for(pilot, lambda: get_coupling(survivor.id) is None)
        assert bc_row(sandbox_app, survivor.bc_id) is None


async def test_restore_from_the_card(tui_backend: Backend, sandbox_app: Starlette) -> None:
    from bc_tui.tui.screens.card import CardScreen
    from tests.sync.coupled_pairs import coupled_customers
    from tests.tui.flow_host import FlowHost

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
    app = FlowHost(tui_backend, start=lambda: CardScreen(MAPPING, pair.bc_id))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen_is(app, "CardScreen"))
        # The card says the coupling is broken and which key offers its fixes.
        await wait_for(pilot, lambda: "is coupled to a deleted Dataverse record" in screen_text(app))
        assert "Press b for its fixes." in screen_text(app)
        await pilot.press("b")
        await wait_for(pilot, lambda: screen_is(app, "FixesDialog"))
        await pilot.press("t")
        await wait_for(pilot, lambda: job_done(app), seconds=20)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(app, "CardScreen"))
    coupling = get_by_bc_id(MAPPING, pair.bc_id)
    assert coupling is not None and coupling.dataverse_id != pair.dataverse_id and not coupling.broken
    assert account_row(sandbox_app, coupling.dataverse_id)["name"] == bc_row(sandbox_app, pair.bc_id)["displayName"]


async def test_the_log_and_errors_screens_work_offline(
    sandbox_app: Starlette, sandbox_info: dict, tui_database_url: str
) -> None:
    from dataclasses import replace

    from textual.widgets import Static

    from bc_tui.config import profile_from_sandbox_info
    from bc_tui.domain.words import not_connected
    from bc_tui.sandbox.inprocess import asgi_transport
    from bc_tui.sync.check import check_couplings
    from tests.sync.coupled_pairs import coupled_customers

    profile = profile_from_sandbox_info(sandbox_info)
    online = Backend(profile, tui_database_url, transport=asgi_transport(sandbox_app))
    assert (await online.start()).ok
    try:
        pairs = await coupled_customers(online.session, sandbox_app, 2)
        store_of(sandbox_app).delete("dv/accounts", pairs[0].dataverse_id)
        assert (await check_couplings(online.session, MAPPING)).message == "Checked 2 couplings: 1 broken."
    finally:
        await online.close()

    # The same coupling database, but the services refuse the secret: not connected.
    offline = Backend(
        replace(profile, client_secret="not-the-secret"), tui_database_url, transport=asgi_transport(sandbox_app)
    )
    app = BcTuiApp(backend=offline)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: offline.started)
            assert not app.connected and offline.offline_session is not None
            told = not_connected(offline.state.problem)

            await pilot.press("L")
            await wait_for(pilot, lambda: screen_is(app, "LogScreen") and bool(app.screen.jobs))
            assert any("Check couplings" in map(str, row) for row in _rows(app.screen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: screen_is(app, "MainScreen"))

            await pilot.press("E")
            await wait_for(pilot, lambda: screen_is(app, "ErrorsScreen") and app.screen.loaded)
            errors = app.screen
            assert [(row.coupling_id, row.kind) for row in errors.rows] == [(pairs[0].id, "broken")]
            message = errors.query_one("#errors-message", Static)
            assert str(message.render()) == (
                f"1 coupling needs attention: 0 skipped, 0 conflicts, 0 failed, 1 broken. {told} "
                "The records were not checked."
            )
            # An action that needs the services says why in one sentence, and nothing changes.
            await pilot.press("t")
            await wait_for(pilot, lambda: str(message.render()) == told)
            assert get_coupling(pairs[0].id).deleted_side is Side.DATAVERSE
    finally:
        await offline.close()


def _rows(log) -> list[list]:
    from textual.widgets import DataTable

    table = log.query_one("#log-jobs", DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


@pytest.mark.usefixtures("snapshots_here")
def test_snapshot_fixes_of_a_broken_coupling(snap_compare, tui_backend: Backend, sandbox_app: Starlette) -> None:
    app = BcTuiApp(tui_backend)

    async def open_fixes(pilot) -> None:
        await loaded(app, pilot)
        first, _ = await couple_listed_customers(app, tui_backend.session, 2)
        store_of(sandbox_app).delete("dv/accounts", first.dataverse_id)
        app.main_screen.refresh_lists()
        await loaded(app, pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: screen_is(app, "FixesDialog"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_fixes)


async def test_from_the_dataverse_list_a_deleted_customer_shows_then_check_couplings_on_the_errors_screen(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await loaded(tui_app, pilot)
        pairs = await couple_listed_customers(tui_app, tui_backend.session, 6)
        tui_app.main_screen.refresh_lists()  # the new accounts
        await pilot.press("right_square_bracket", "right_square_bracket")
        accounts = tui_app.main_screen.record_list("dataverse-accounts")
        await wait_for(pilot, lambda: tui_app.main_screen.active_tab == "dataverse-accounts")
        await wait_for(pilot, lambda: any(p.dataverse_id in accounts.visible_keys() for p in pairs))
        no_customer = next(p for p in pairs if p.dataverse_id in accounts.visible_keys())
        no_account = next(p for p in reversed(pairs) if p is not no_customer)
        store_of(sandbox_app).delete("bc/customers", no_customer.bc_id)
        store_of(sandbox_app).delete("dv/accounts", no_account.dataverse_id)  # so no longer in view
        tui_app.main_screen.refresh_lists()
        await wait_for(
            pilot,
            lambda: (
                no_customer.dataverse_id in accounts.visible_keys()
                and no_account.dataverse_id not in accounts.visible_keys()
            ),
        )

        # The errors screen checks the couplings of the accounts in view: the customer is gone.
        await pilot.press("E")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen") and tui_app.screen.loaded)
        screen = tui_app.screen
        assert listed(screen) == {no_customer.id}
        assert screen.rows[0].record_exists is False and screen.rows[0].coupled_record_exists is True

        # C checks every coupling of the table mapping: the one out of view is listed too.
        await pilot.press("C")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        await pilot.press("enter")
        await wait_for(pilot, lambda: listed(screen) == {no_customer.id, no_account.id})
        assert "Checked 6 couplings: 2 broken." in screen_text(tui_app)
        assert get_coupling(no_customer.id).deleted_side is Side.BC
        assert get_coupling(no_account.id).deleted_side is Side.DATAVERSE
