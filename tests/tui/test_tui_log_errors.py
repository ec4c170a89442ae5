"""The synchronization log and the errors screen, walked with the keyboard from the main screen.

The problems are made with the engine itself (`bc_tui.sync`) before the app starts: the same
failure twice marks a coupling Skipped; a deleted Dataverse account breaks a coupling.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_by_bc_id, get_coupling
from bc_tui.store.records import CouplingRecord, Side
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_one
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.sync.coupled_pairs import MAPPING, account_row, bc_row, coupled_customers, edit_account, store_of
from tests.tui.pilot_waits import (  # noqa: F401
    SIZE,
    fix_times,
    job_done,
    screen_is,
    screen_text,
    snapshots_here,
    wait_for,
)

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE
TOO_LONG_CITY = "Llanfairpwllgwyngyllgogerychwyrndrobwll"  # BC's City holds 30 characters


async def make_skipped(session: SyncSession, sandbox_app: Starlette, pair: CouplingRecord) -> None:
    """The same failure twice (BC refuses the too-long city) marks the coupling Skipped."""
    edit_account(sandbox_app, pair.dataverse_id, address1_city=TOO_LONG_CITY)
    for _ in range(2):
        await synchronize_one(session, MAPPING, pair.bc_id, GET)
    assert get_coupling(pair.id).skipped


async def make_broken(session: SyncSession, sandbox_app: Starlette, pair: CouplingRecord) -> None:
    """Delete the coupled account in Dataverse; the next synchronization finds the coupling broken."""
    store_of(sandbox_app).delete("dv/accounts", pair.dataverse_id)
    await synchronize_one(session, MAPPING, pair.bc_id, SEND)
    assert get_coupling(pair.id).deleted_side is Side.DATAVERSE


async def open_errors(app: BcTuiApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("E")
    await wait_for(pilot, lambda: screen_is(app, "ErrorsScreen") and app.screen.loaded)


async def cursor_to(pilot, screen, coupling_id: int) -> None:
    """Move the errors screen's cursor to the row of ``coupling_id`` with the arrow keys."""
    from textual.widgets import DataTable

    table = screen.query_one("#errors-table", DataTable)
    wanted = [row.coupling_id for row in screen.rows].index(coupling_id)
    step = "down" if wanted > table.cursor_row else "up"
    await pilot.press(*[step] * abs(wanted - table.cursor_row))
    assert screen.chosen[0].coupling_id == coupling_id


def listed(screen) -> set[int]:
    return {row.coupling_id for row in screen.rows}


async def close_job(app: BcTuiApp, pilot) -> None:
    await wait_for(pilot, lambda: job_done(app), seconds=20)
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_is(app, "ErrorsScreen"))


async def test_errors_screen_retry_restore_and_delete_coupling(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    skipped, restored, uncoupled = await coupled_customers(session, sandbox_app, 3)
    await make_skipped(session, sandbox_app, skipped)
    await make_broken(session, sandbox_app, restored)
    await make_broken(session, sandbox_app, uncoupled)

    async with tui_app.run_test(size=SIZE) as pilot:
        await open_errors(tui_app, pilot)
        screen = tui_app.screen
        assert listed(screen) == {skipped.id, restored.id, uncoupled.id}
        assert "3 couplings need attention: 1 skipped, 0 conflicts, 0 failed, 2 broken." in screen_text(tui_app)
        assert {row.kind for row in screen.rows} == {"skipped", "broken"}

        # Retry: Skipped is cleared and the coupling synchronized at once; the city is still too
        # long, so it fails again and stays listed as failed (not Skipped: the count starts over).
        await cursor_to(pilot, screen, skipped.id)
        await pilot.press("r")
        await close_job(tui_app, pilot)
        await wait_for(pilot, lambda: "failed" in {row.kind for row in screen.rows})
        assert not get_coupling(skipped.id).skipped
        assert "0 skipped, 0 conflicts, 1 failed, 2 broken" in screen_text(tui_app)
        assert "Retrying 1 coupling: Failed 1." in screen_text(tui_app)

        # Restore: the deleted account is created again from the customer and coupled.
        await cursor_to(pilot, screen, restored.id)
        await pilot.press("t")
        await close_job(tui_app, pilot)
        await wait_for(pilot, lambda: restored.id not in listed(screen))
        coupling = get_by_bc_id(MAPPING, restored.bc_id)
        assert coupling is not None and coupling.dataverse_id != restored.dataverse_id and not coupling.broken
        assert (
            account_row(sandbox_app, coupling.dataverse_id)["name"]
            == bc_row(sandbox_app, restored.bc_id)["displayName"]
        )

        # Delete coupling: the coupling goes, the customer stays.
        await cursor_to(pilot, screen, uncoupled.id)
        await pilot.press("d")
        await wait_for(pilot, lambda: uncoupled.id not in listed(screen))
        assert get_coupling(uncoupled.id) is None
        assert bc_row(sandbox_app, uncoupled.bc_id) is not None
        assert listed(screen) == {skipped.id}

        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))


async def test_errors_screen_synchronize_with_a_side_and_delete_the_survivor(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    skipped, survivor = await coupled_customers(session, sandbox_app, 2)
    await make_skipped(session, sandbox_app, skipped)
    await make_broken(session, sandbox_app, survivor)

    async with tui_app.run_test(size=SIZE) as pilot:
        await open_errors(tui_app, pilot)
        screen = tui_app.screen

        # Synchronize: pick "send" — Business Central's city overwrites the too-long one.
        await cursor_to(pilot, screen, skipped.id)
        await pilot.press("s")
        await wait_for(pilot, lambda: screen_is(tui_app, "DirectionDialog"))
        await pilot.press("1")
        await close_job(tui_app, pilot)
        await wait_for(pilot, lambda: "skipped" not in {row.kind for row in screen.rows})
        assert "Modified 1" in screen_text(tui_app)
        assert (
            account_row(sandbox_app, skipped.dataverse_id)["address1_city"]
            == bc_row(sandbox_app, skipped.bc_id)["city"]
        )
        assert not get_coupling(skipped.id).skipped

        # Delete the surviving record: asked first (No is the default), then deleted.
        await cursor_to(pilot, screen, survivor.id)
        await pilot.press("D")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        await pilot.press("y")
        await close_job(tui_app, pilot)
        await wait_for(pilot, lambda: survivor.id not in listed(screen))
        assert bc_row(sandbox_app, survivor.bc_id) is None
        assert get_coupling(survivor.id) is None


async def test_log_lists_the_jobs_and_opens_their_errors(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    session = tui_backend.session
    matched = await match_based_coupling(session, MAPPING)  # some customers have no match
    assert matched.counters["unmatched"] > 0

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen"))
        log = tui_app.screen
        logged = jobs.list_jobs()
        assert [job.id for job in log.jobs] == [job.id for job in logged]  # newest first
        assert log.jobs[0].id == matched.job_id
        assert f"Job {matched.job_id} · Match coupling · CUSTOMER · finished" in screen_text(tui_app)

        await pilot.press("enter")
        await pilot.pause()
        assert log.open_job_id == matched.job_id
        assert len(log.errors) == matched.counters["unmatched"] == len(jobs.job_errors(matched.job_id))
        assert f"Errors of job {matched.job_id}: {len(log.errors)}" in screen_text(tui_app)
        assert "no unique uncoupled matching entity was found" in screen_text(tui_app)

        await pilot.press("escape")  # the errors close first
        assert log.open_job_id is None and screen_is(tui_app, "LogScreen")
        await pilot.press("f5")
        assert [job.id for job in log.jobs] == [job.id for job in jobs.list_jobs()]
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))


async def test_log_of_one_record_shows_only_its_jobs_and_errors(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    from bc_tui.tui.screens.log import LogScreen

    session = tui_backend.session
    mine, other = await coupled_customers(session, sandbox_app, 2)
    await make_skipped(session, sandbox_app, mine)
    await make_broken(session, sandbox_app, other)
    failures = jobs.record_errors(bc_id=mine.bc_id)
    assert len(failures) == 2

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        tui_app.push_screen(LogScreen(bc_id=mine.bc_id, record_name="customer 10000 Adatum Corporation"))
        await wait_for(pilot, lambda: "Synchronization log of customer 10000" in screen_text(tui_app))
        log = tui_app.screen
        shown = {job.id for job in log.jobs}
        assert {error.job_id for error in failures} <= shown
        assert not shown & {error.job_id for error in jobs.record_errors(bc_id=other.bc_id)}
        await pilot.press("enter")
        await pilot.pause()
        assert log.errors and all(error.bc_id == mine.bc_id for error in log.errors)


@pytest.mark.usefixtures("snapshots_here")
def test_snapshot_log_screen(snap_compare, tui_backend: Backend, sandbox_app: Starlette) -> None:
    app = BcTuiApp(tui_backend)

    async def open_log(pilot) -> None:
        summary = await match_based_coupling(tui_backend.session, MAPPING)
        assert summary.counters["unmatched"] > 0
        fix_times()
        await app.workers.wait_for_complete()
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_is(app, "LogScreen"))
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_log)


@pytest.mark.usefixtures("snapshots_here")
def test_snapshot_errors_screen(snap_compare, tui_backend: Backend, sandbox_app: Starlette) -> None:
    app = BcTuiApp(tui_backend)

    async def open_errors_screen(pilot) -> None:
        session = tui_backend.session
        pairs = await coupled_customers(session, sandbox_app, 2)
        await make_skipped(session, sandbox_app, pairs[0])
        fix_times()
        await open_errors(app, pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_errors_screen)


async def test_undo_a_multi_record_job_from_the_log(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    from bc_tui.sync.synchronize import synchronize_many

    session = tui_backend.session
    pairs = await coupled_customers(session, sandbox_app, 5)
    for n, pair in enumerate(pairs):
        store_of(sandbox_app).update("bc/customers", pair.bc_id, {"phoneNumber": f"+1 555 01{n:02d}"})
    before = [account_row(sandbox_app, p.dataverse_id)["telephone1"] for p in pairs]
    sent = await synchronize_many(session, MAPPING, [p.bc_id for p in pairs], SEND)
    assert sent.counters["modified"] == 5

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen") and bool(tui_app.screen.jobs))
        log = tui_app.screen
        assert log.jobs[0].id == sent.job_id  # the newest job is highlighted
        await pilot.press("u")
        await wait_for(pilot, lambda: screen_is(tui_app, "ConfirmDialog"))
        assert f"Undo job {sent.job_id}?" in screen_text(tui_app)
        assert "The 5 records it changed get the values they had before it." in screen_text(tui_app)
        await pilot.press("y")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        assert "5 records put back" in screen_text(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen") and log.jobs[0].id != sent.job_id)

        assert [account_row(sandbox_app, p.dataverse_id)["telephone1"] for p in pairs] == before
        assert log.jobs[0].message.startswith(f"Undo of job {sent.job_id}: 5 records put back")
        assert [bc_row(sandbox_app, p.bc_id)["phoneNumber"] for p in pairs] == [f"+1 555 01{n:02d}" for n in range(5)]
