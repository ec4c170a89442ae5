"""Running jobs in the TUI: progress, summary, failures, cancelling with escape.

The jobs are the engine's own (`bc_tui.sync`) against the in-process sandbox, started as the
flows start them: ``run_job(app, title, job)`` from a worker.
"""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from textual import on
from textual.widgets._tabs import Underline

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import count_couplings, iter_couplings
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.progress import JobRun, ProgressCallback
from bc_tui.sync.synchronize import synchronize_many
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.job import JobFinished
from bc_tui.tui.jobs import run_job
from tests.sync.coupled_pairs import MAPPING, bc_row, coupled_customers, edit_account
from tests.tui.pilot_waits import SIZE, job_done, screen_is, screen_text, snapshots_here, wait_for  # noqa: F401

GET = SyncDirection.FROM_DATAVERSE
TOO_LONG_CITY = "Llanfairpwllgwyngyllgogerychwyrndrobwll"  # BC's City holds 30 characters


class RecordingApp(BcTuiApp):
    """The real app, remembering the JobFinished messages the job dialog posts."""

    def __init__(self, backend: Backend, **kwargs) -> None:
        super().__init__(backend, **kwargs)
        self.finished: list[JobFinished] = []
        self.results: list[object] = []

    @on(JobFinished)
    def _job_finished(self, message: JobFinished) -> None:
        self.finished.append(message)

    def start_job(self, title: str, job) -> None:
        """Run ``run_job`` in a worker, as the flows do, keeping what it returns."""

        async def keep() -> None:
            self.results.append(await run_job(self, title, job))

        self.run_worker(keep(), group="test-job")


async def test_a_job_shows_progress_then_its_summary_and_failures(tui_backend: Backend, sandbox_app: Starlette) -> None:
    session = tui_backend.session
    pairs = await coupled_customers(session, sandbox_app, 3)
    edit_account(sandbox_app, pairs[0].dataverse_id, address1_city="Springfield")
    edit_account(sandbox_app, pairs[1].dataverse_id, address1_city="Shelbyville")
    edit_account(sandbox_app, pairs[2].dataverse_id, address1_city=TOO_LONG_CITY)
    ids = [p.bc_id for p in pairs]
    app = RecordingApp(tui_backend)

    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        app.start_job(
            "Getting 3 customers", lambda progress: synchronize_many(session, MAPPING, ids, GET, progress=progress)
        )
        await wait_for(pilot, lambda: job_done(app))
        await pilot.pause(0.15)  # the dialog draws on a timer

        text = screen_text(app)
        assert "Getting 3 customers" in text
        assert "3 of 3 records · 1 failed · 0 skipped" in text
        assert "Done.\nModified 2 · Failed 1" in text
        assert "The synchronization has run for 2 of 3 records. 1 record failed." in text

        await pilot.press("f")  # the failures, in the log
        await wait_for(pilot, lambda: screen_is(app, "LogScreen"))
        log = app.screen
        summary_job = app.finished[-1].summary.job_id
        assert log.open_job_id == summary_job
        [error] = log.errors
        assert error.message.startswith("Business Central rejected the request for customer")
        assert TOO_LONG_CITY in error.message and error.bc_id == ids[2]
        assert error.message in screen_text(app)  # the line under the tables says it in full
        await pilot.press("escape")  # back to the job dialog
        await wait_for(pilot, lambda: screen_is(app, "JobScreen"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.results))

    [summary] = app.results
    assert summary.count(Outcome.MODIFIED) == 2 and summary.count(Outcome.FAILED) == 1
    assert summary.status is JobStatus.FINISHED
    assert [m.summary.job_id for m in app.finished] == [summary.job_id]
    assert bc_row(sandbox_app, ids[0])["city"] == "Springfield"
    assert bc_row(sandbox_app, ids[1])["city"] == "Shelbyville"
    assert bc_row(sandbox_app, ids[2])["city"] != TOO_LONG_CITY
    assert jobs.get_job(summary.job_id).modified == 2


async def test_escape_cancels_a_running_job(tui_backend: Backend) -> None:
    handled = asyncio.Event()
    never = asyncio.Event()  # the job's fourth record waits for ever: only escape ends it

    async def long_job(progress: ProgressCallback):
        async with JobRun(JobType.SYNCHRONIZATION, mapping=MAPPING, total=40, progress=progress) as run:
            for number in range(40):
                run.working_on(f"customer {10000 + number}")
                if number == 3:
                    handled.set()
                    await never.wait()
                run.record(Outcome.MODIFIED, description=f"customer {10000 + number}")
        return run.summary

    app = RecordingApp(tui_backend)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        app.start_job("Synchronizing 40 customers", long_job)
        await wait_for(pilot, handled.is_set)
        await pilot.pause(0.15)
        assert "3 of 40 records · 0 failed · 0 skipped" in screen_text(app)
        assert "customer 10003" in screen_text(app)

        await pilot.press("escape")
        await wait_for(pilot, lambda: job_done(app))
        assert "The job was cancelled." in screen_text(app)
        assert "Modified 3" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: bool(app.results))

    [summary] = app.results
    assert summary.status is JobStatus.CANCELLED
    job = jobs.get_job(summary.job_id)
    assert (job.status, job.modified) == (JobStatus.CANCELLED, 3)
    assert app.finished[-1].summary.status is JobStatus.CANCELLED


async def test_a_job_that_cannot_start_says_why_in_the_dialog(tui_backend: Backend) -> None:
    session = tui_backend.session
    app = RecordingApp(tui_backend)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        app.start_job(
            "Match-based coupling", lambda progress: match_based_coupling(session, MAPPING, [], progress=progress)
        )
        await wait_for(pilot, lambda: job_done(app))
        assert "You must specify which fields of the table mapping CUSTOMER should be used" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.results))
    assert app.results == [None]
    assert app.finished[-1].error.startswith("You must specify")
    assert jobs.list_jobs() == []


@pytest.mark.usefixtures("snapshots_here")
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_snapshot_job_summary(snap_compare, tui_backend: Backend, theme: str) -> None:
    session = tui_backend.session
    app = BcTuiApp(tui_backend, theme=theme)
    # The tabs' underline slides into place; a picture taken mid-slide would differ.
    app.animation_level = "none"

    async def run_match(pilot) -> None:
        await app.workers.wait_for_complete()
        # The screen under the job dialog is drawn as it was when the dialog opened: let the tabs'
        # underline be placed first, or a busy machine pictures the tabs without it.
        await wait_for(pilot, lambda: any(u.highlight_end > 0 for u in app.screen.query(Underline)))
        await pilot.pause(0.1)
        app.run_worker(
            run_job(
                app, "Match-based coupling of CUSTOMER", lambda p: match_based_coupling(session, MAPPING, progress=p)
            )
        )
        await wait_for(pilot, lambda: job_done(app))
        # The list behind the dialog is read again as the job progresses and when it ends: wait
        # until the rows in view show the couplings the job made.
        record_list = app.main_screen.record_list("customers")
        coupled = {c.bc_id for c in iter_couplings(MAPPING)}

        def rows_show_the_couplings() -> bool:
            rows = [record_list.row_at(i) for i in range(30)]
            return all(row is not None and (row.cells["coupled"] == "●") == (row.key in coupled) for row in rows)

        await wait_for(pilot, rows_show_the_couplings)
        await pilot.pause(0.15)
        assert count_couplings(MAPPING) > 0

    assert snap_compare(app, terminal_size=SIZE, run_before=run_match)
