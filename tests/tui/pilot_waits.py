"""Helpers of the job, match, log and errors tests: waiting for the app, fixed times, snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_textual_snapshot
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from bc_tui.store.models import Coupling, JobError, SyncJob

SIZE = (120, 40)
SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
FIXED_TIME = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], *, seconds: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}; screen is {pilot.app.screen!r}")
        await pilot.pause(0.02)


def screen_text(app: App) -> str:
    """Everything the Static widgets of the current screen say, one per line."""
    return "\n".join(str(widget.render()) for widget in app.screen.query(Static))


def screen_is(app: App, name: str) -> bool:
    """Whether the screen on top is of the class called ``name`` (and is mounted)."""
    return type(app.screen).__name__ == name and app.screen.is_mounted


def job_done(app: App) -> bool:
    """Whether the job dialog is on top and its job has ended."""
    return screen_is(app, "JobScreen") and not app.screen.running  # type: ignore[attr-defined]


def fix_times(started: datetime = FIXED_TIME) -> None:
    """Give every job, job error and coupling fixed times, so that snapshots do not drift."""
    for offset, job in enumerate(SyncJob.select().order_by(SyncJob.id)):
        begin = started + timedelta(minutes=offset)
        SyncJob.update(started_at=begin, finished_at=begin + timedelta(seconds=3)).where(SyncJob.id == job.id).execute()
    JobError.update(created_at=started + timedelta(seconds=1)).execute()
    Coupling.update(updated_at=started, to_dataverse_at=None, from_dataverse_at=started + timedelta(seconds=2)).where(
        Coupling.from_dataverse_at.is_null(False)
    ).execute()


class SnapshotsInTestsFolder(pytest_textual_snapshot.SVGImageExtension):
    """Store the SVGs in tests/tui/snapshots/<module>/ like the foundation's snapshots."""

    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


@pytest.fixture
def snapshots_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use `SnapshotsInTestsFolder` and UTC as the local time zone (times on screen are local)."""
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", SnapshotsInTestsFolder)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
