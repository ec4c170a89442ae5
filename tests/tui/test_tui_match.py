"""Match-Based Coupling from the main screen: the criteria dialog, the job, the summary."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from bc_tui.domain.matching import MatchCriterion
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import count_couplings, iter_couplings
from bc_tui.store.jobs import JobType
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.tui.pilot_waits import SIZE, job_done, screen_is, screen_text, snapshots_here, wait_for  # noqa: F401

MAPPING = "CUSTOMER"


def _key(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _active_customers(sandbox_app: Starlette) -> list[dict]:
    return [c for c in sandbox_app.state.store.rows("bc/customers") if c.get("blocked") in (" ", "", None)]


async def _open_dialog(app: BcTuiApp, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("m")
    await wait_for(pilot, lambda: screen_is(app, "MatchDialog"))


async def test_match_dialog_couples_records_by_name_and_email(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await _open_dialog(tui_app, pilot)
        dialog = tui_app.screen
        # Pre-filled from the table mapping: Name first, then E-Mail.
        assert [(c.label, c.priority, c.case_sensitive) for c in dialog.criteria] == [
            ("Name", 0, False),
            ("E-Mail", 1, False),
        ]
        assert "Synchronize After Coupling (s): No" in screen_text(tui_app)

        await pilot.press("enter")
        await wait_for(pilot, lambda: job_done(tui_app))
        await pilot.pause(0.15)
        job = jobs.list_jobs(job_type=JobType.MATCH_BASED_COUPLING)[0]
        assert f"Coupled {job.coupled}" in screen_text(tui_app)
        # Records without a match are unmatched, not failed (docs/coupling-and-sync.md "Match-based coupling").
        assert job.unmatched > 0 and job.failed == 0
        assert f"Unmatched {job.unmatched}" in screen_text(tui_app)
        assert "Failed" not in screen_text(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await tui_app.workers.wait_for_complete()

    coupled = list(iter_couplings(MAPPING))
    assert job.coupled == len(coupled) > 0
    assert job.coupled + job.unmatched == len(_active_customers(sandbox_app))
    store = sandbox_app.state.store
    for coupling in coupled:
        customer = store.get("bc/customers", coupling.bc_id)
        account = store.get("dv/accounts", coupling.dataverse_id)
        assert _key(customer["displayName"]) == _key(account["name"]) or _key(customer["email"]) == _key(
            account["emailaddress1"]
        )


async def test_keys_edit_the_criteria_and_no_criteria_is_refused_in_the_dialog(tui_app: BcTuiApp) -> None:
    async with tui_app.run_test(size=SIZE) as pilot:
        await _open_dialog(tui_app, pilot)
        dialog = tui_app.screen
        labels = [row.field.label for row in dialog.rows]
        email, city = labels.index("E-Mail"), labels.index("City")

        await pilot.press(*["down"] * email, "space")  # untick E-Mail
        await pilot.press(*["up"] * email, "space")  # untick Name
        await pilot.press("enter")
        await pilot.pause()
        assert screen_is(tui_app, "MatchDialog")  # refused, the dialog stays
        assert "You must specify which fields of the table mapping CUSTOMER should be used" in screen_text(tui_app)

        await pilot.press(*["down"] * city, "c", "plus", "plus", "minus")
        assert [(c.label, c.priority, c.case_sensitive) for c in dialog.criteria] == [("City", 1, True)]
        assert "You must specify" not in screen_text(tui_app)  # the error went with the change

        await pilot.press("s")
        assert "Synchronize After Coupling (s): Yes - Use the Business Central data" in screen_text(tui_app)
        await pilot.press("s", "s", "n")
        assert "Synchronize After Coupling (s): No" in screen_text(tui_app)
        assert "Create New If Unable to Find a Match (n): [x]" in screen_text(tui_app)

        await pilot.press("r")  # Reset Criteria: back to the mapping's own
        assert [c.label for c in dialog.criteria] == ["Name", "E-Mail"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await tui_app.workers.wait_for_complete()
    assert jobs.list_jobs() == []  # cancelled before anything ran
    assert count_couplings(MAPPING) == 0


async def test_create_new_couples_every_active_customer(tui_app: BcTuiApp, sandbox_app: Starlette) -> None:
    accounts_before = sandbox_app.state.store.count("dv/accounts")
    async with tui_app.run_test(size=SIZE) as pilot:
        await _open_dialog(tui_app, pilot)
        await pilot.press("n", "enter")
        await wait_for(pilot, lambda: job_done(tui_app), seconds=20)
        await pilot.pause(0.15)
        summary_text = screen_text(tui_app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        await tui_app.workers.wait_for_complete()

    job = jobs.list_jobs(job_type=JobType.MATCH_BASED_COUPLING)[0]
    created = sandbox_app.state.store.count("dv/accounts") - accounts_before
    assert job.inserted == created > 0 and job.failed == 0
    assert f"Inserted {created}" in summary_text and f"{created} created" in summary_text
    assert count_couplings(MAPPING) == len(_active_customers(sandbox_app))


def test_criteria_are_domain_criteria() -> None:
    from bc_tui.domain.defaults import customer_mapping
    from bc_tui.tui.dialogs.match import MatchDialog

    dialog = MatchDialog(customer_mapping())
    assert all(isinstance(c, MatchCriterion) for c in dialog.criteria)
    # Disabled field mappings are not read from the services: they are not offered.
    assert all(row.field.enabled for row in dialog.rows)


@pytest.mark.usefixtures("snapshots_here")
def test_snapshot_match_dialog(snap_compare, tui_backend: Backend) -> None:
    app = BcTuiApp(tui_backend)

    async def open_dialog(pilot) -> None:
        await _open_dialog(app, pilot)
        await pilot.press("down", "c")

    assert snap_compare(app, terminal_size=SIZE, run_before=open_dialog)
