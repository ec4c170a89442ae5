"""Synchronize modified records from the terminal app (the key on the lists and the command
palette), and Retry on the errors screen, which synchronizes the retried couplings right away.

Each journey edits a record in the sandbox as a user of that service would, runs the action
with the keyboard, and checks both the app (dialog, summary, status line) and the other side.
"""

from __future__ import annotations

from starlette.applications import Starlette

from bc_tui.store.coupling_queries import get_coupling
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.sync.coupled_pairs import account_row, bc_row, coupled_customers, edit_account, edit_bc, next_second
from tests.tui.pilot_waits import SIZE, job_done, screen_is, screen_text, wait_for
from tests.tui.test_tui_log_errors import make_skipped, open_errors


async def confirm_and_finish(app: BcTuiApp, pilot, question: str):
    """Answer the confirmation with y, wait for the job, and return its dialog (still open)."""
    await wait_for(pilot, lambda: screen_is(app, "ConfirmDialog"))
    assert question in app.screen.question
    await pilot.press("y")
    await wait_for(pilot, lambda: job_done(app), seconds=30)
    return app.screen


async def test_sync_modified_from_the_key_and_from_the_palette(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    first, second = await coupled_customers(session, sandbox_app, 2)
    await next_second()
    edit_bc(sandbox_app, first.bc_id, city="Kyoto")

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.pause()
        # S on the customer list: this table mapping only.
        await pilot.press("S")
        job = await confirm_and_finish(
            tui_app, pilot, "Synchronize the records of CUSTOMER modified since the last synchronization?"
        )
        assert job.summary is not None and job.summary.counters == {"modified": 1}
        assert "Modified 1" in screen_text(tui_app)
        assert account_row(sandbox_app, first.dataverse_id)["address1_city"] == "Kyoto"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await wait_for(pilot, lambda: "Modified records of CUSTOMER" in tui_app.main_screen.status.message)
        assert "has run for 1 of 1 record" in tui_app.main_screen.status.message

        # The palette: every table mapping; this time Dataverse changed.
        await next_second()
        edit_account(sandbox_app, second.dataverse_id, address1_city="Bergen")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Sync modified, all table mappings")
        await pilot.pause(0.3)
        options = tui_app.screen.query_one("CommandList")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "Sync modified, all table mappings" in prompts[0], prompts
        await pilot.press("enter")
        job = await confirm_and_finish(tui_app, pilot, "of every table mapping (CUSTOMER, CONTACT)")
        assert job.summary is not None and job.summary.counters == {"modified": 1}
        assert bc_row(sandbox_app, second.bc_id)["city"] == "Bergen"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))

        # Nothing changed since: a third run has nothing to do, and says so.
        await pilot.press("S")
        job = await confirm_and_finish(tui_app, pilot, "of CUSTOMER")
        assert job.summary is not None and job.summary.counters == {}
        assert "Nothing to do." in screen_text(tui_app)


async def test_sync_modified_reports_skipped_records(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    """A record Business Central refuses twice the same way ends Skipped (BC's rule); the next
    run reports it skipped: "Skipped" can come from the TUI too."""
    session = tui_backend.session
    [pair] = await coupled_customers(session, sandbox_app, 1)
    too_long = "Llanfairpwllgwyngyllgogerychwyrndrobwll"  # BC's City holds 30 characters

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.pause()
        for counters in ({"failed": 1}, {"failed": 1}, {"skipped": 1}):
            await next_second()
            edit_account(sandbox_app, pair.dataverse_id, address1_city=too_long)
            await pilot.press("S")
            job = await confirm_and_finish(tui_app, pilot, "of CUSTOMER")
            assert job.summary is not None and job.summary.counters == counters
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        assert "1 record was skipped." in tui_app.main_screen.status.message
    assert get_coupling(pair.id).skipped
    assert bc_row(sandbox_app, pair.bc_id)["city"] != too_long


async def test_retry_on_the_errors_screen_synchronizes_the_coupling_now(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    [pair] = await coupled_customers(session, sandbox_app, 1)
    await make_skipped(session, sandbox_app, pair)
    # The cause is fixed in Dataverse: a city Business Central accepts.
    edit_account(sandbox_app, pair.dataverse_id, address1_city="Tromsø")

    async with tui_app.run_test(size=SIZE) as pilot:
        await open_errors(tui_app, pilot)
        screen = tui_app.screen
        assert [row.coupling_id for row in screen.rows] == [pair.id]
        await pilot.press("r")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=30)
        assert tui_app.screen.summary.counters == {"modified": 1}
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen"))
        await wait_for(pilot, lambda: not screen.rows)
        assert "Retrying 1 coupling: Modified 1." in screen_text(tui_app)
        assert "No couplings need attention." in screen_text(tui_app)
    assert bc_row(sandbox_app, pair.bc_id)["city"] == "Tromsø"
    coupling = get_coupling(pair.id)
    assert not coupling.skipped and not coupling.failed


async def test_retry_all_synchronizes_every_skipped_coupling(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    pairs = await coupled_customers(session, sandbox_app, 2)
    for pair, city in zip(pairs, ("Narvik", "Alta"), strict=True):
        await make_skipped(session, sandbox_app, pair)
        edit_account(sandbox_app, pair.dataverse_id, address1_city=city)

    async with tui_app.run_test(size=SIZE) as pilot:
        await open_errors(tui_app, pilot)
        screen = tui_app.screen
        assert len(screen.rows) == 2
        await pilot.press("R")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=30)
        assert tui_app.screen.summary.counters == {"modified": 2}
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "ErrorsScreen") and not screen.rows)
    assert [bc_row(sandbox_app, p.bc_id)["city"] for p in pairs] == ["Narvik", "Alta"]


async def test_ctrl_s_asks_for_every_table_mapping_and_no_runs_nothing(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    from bc_tui.store.jobs import list_jobs

    [pair] = await coupled_customers(tui_backend.session, sandbox_app, 1)
    await next_second()
    edit_bc(sandbox_app, pair.bc_id, city="Kyoto")
    before = [job.id for job in list_jobs()]

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        assert "of every table mapping (CUSTOMER, CONTACT)" in tui_app.screen.question
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await tui_app.workers.wait_for_complete()
    assert [job.id for job in list_jobs()] == before
    assert account_row(sandbox_app, pair.dataverse_id)["address1_city"] != "Kyoto"
