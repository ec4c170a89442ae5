"""The synchronization log shows a job whose process died as interrupted, not running forever."""

from __future__ import annotations

import subprocess
import sys

from starlette.applications import Starlette

from bc_tui.store import jobs
from bc_tui.store.jobs import JobStatus, JobType
from bc_tui.store.liveness import host_name, process_start
from bc_tui.store.models import SyncJob
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from tests.tui.pilot_waits import SIZE, screen_is, screen_text, wait_for


def _job_of_a_dead_process() -> int:
    """A job left "running" by a real process that has since been killed."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_start(child.pid)
    child.kill()
    child.wait()
    job = jobs.start_job(JobType.SYNCHRONIZATION, mapping="CUSTOMER", direction="to-dataverse")
    jobs.heartbeat(job.id, total=80, modified=30)
    SyncJob.update(host=host_name(), pid=child.pid, process_started=started).where(SyncJob.id == job.id).execute()
    return job.id


async def test_log_marks_and_shows_an_interrupted_job(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette
) -> None:
    job_id = _job_of_a_dead_process()
    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen"))
        log = tui_app.screen
        assert [job.status for job in log.jobs if job.id == job_id] == [JobStatus.INTERRUPTED]
        text = screen_text(tui_app)
        assert "interrupted" in text and "running" not in text
        assert f"Job {job_id} · Synchronization · CUSTOMER · send · interrupted" in text
        assert "Interrupted: the bc-tui process ended at about" in text
        assert "after 30 of 80 records." in text
