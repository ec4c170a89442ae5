"""Export to CSV from the terminal app, with the keyboard: a filtered list, the marked rows, the
synchronization log and a job's errors, the errors screen (docs/showing-data.md "Export to CSV").
Each file is checked against the sandbox's data or the store the screens read."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from textual.widgets import Input

from bc_tui.sync.export import JOB_ERROR_HEADER, LOG_HEADER, PROBLEM_HEADER, csv_cell
from bc_tui.sync.list_query import number_order
from bc_tui.tui.app import BcTuiApp
from bc_tui.tui.backend import Backend
from bc_tui.tui.dialogs.job import JobScreen
from bc_tui.tui.export_path import ExportPathDialog
from tests.sync.coupled_pairs import coupled_customers, store_of
from tests.tui.pilot_waits import SIZE, screen_is, screen_text, snapshots_here, wait_for  # noqa: F401
from tests.tui.test_tui_log_errors import make_broken, make_skipped, open_errors

STAMP = r"\d{4}-\d{2}-\d{2}-\d{4}"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Exports land in the current folder by default: a folder of the test's own."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def exported(folder: Path, pattern: str) -> Path:
    [path] = [p for p in folder.iterdir() if re.fullmatch(pattern, p.name)]
    return path


def customers_by_number(sandbox_app: Starlette) -> list[dict[str, Any]]:
    """The sandbox's customers in the list's order: numbers as numbers (docs: "The order of numbers")."""
    return sorted(store_of(sandbox_app).rows("bc/customers"), key=lambda r: number_order(r["number"]))


async def accept_path(app: BcTuiApp, pilot: Any) -> str:
    """Wait for the export dialog and take the path it proposes; returns that path."""
    await wait_for(pilot, lambda: screen_is(app, "ExportPathDialog"))
    proposed = app.screen.query_one(Input).value
    await pilot.press("enter")
    return proposed


async def finish_export(app: BcTuiApp, pilot: Any) -> None:
    """Wait for the export's job dialog to end, and close it."""
    await wait_for(pilot, lambda: isinstance(app.screen, JobScreen) and not app.screen.running, seconds=20)
    assert "Done. Wrote" in screen_text(app)
    assert re.search(r"\n[\d,]+ of [\d,]+ rows written\n", screen_text(app))
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_is(app, "MainScreen"))


async def test_a_filtered_list_is_exported_to_the_proposed_file(
    tui_app: BcTuiApp, sandbox_app: Starlette, in_tmp: Path
) -> None:
    text = customers_by_number(sandbox_app)[2]["displayName"][:2].lower()
    wanted = [
        c
        for c in customers_by_number(sandbox_app)
        if c["displayName"].lower().startswith(text)
        or c["number"].lower().startswith(text)
        or text in (c.get("email") or "").lower()
    ]
    assert 0 < len(wanted) < 50

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("slash", *text, "enter")
        await pilot.press("x")
        proposed = await accept_path(tui_app, pilot)
        await finish_export(tui_app, pilot)
        assert re.fullmatch(rf"{re.escape(str(in_tmp))}/customers-{STAMP}\.csv", proposed)
        assert f"Exported to {proposed}." in screen_text(tui_app)

    rows = read_csv(Path(proposed))
    assert rows[0][:2] == ["No.", "Name"]
    assert [r[-1] for r in rows[1:]] == [c["id"].lower() for c in wanted]
    assert [r[1] for r in rows[1:]] == [csv_cell(c["displayName"]) for c in wanted]


async def test_the_marked_rows_are_exported_and_an_existing_file_is_replaced_only_when_asked(
    tui_app: BcTuiApp, sandbox_app: Starlette, in_tmp: Path
) -> None:
    first, _, third = customers_by_number(sandbox_app)[:3]

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("space", "down", "space")  # marks the first and the third customer
        await pilot.press("x")
        await wait_for(pilot, lambda: screen_is(tui_app, "ExportPathDialog"))
        assert "The 2 marked rows of the list as filtered." in screen_text(tui_app)
        target = in_tmp / "marked.csv"
        target.write_text("kept\n", encoding="utf-8")
        tui_app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        assert "marked.csv exists. Press enter again to replace it" in screen_text(tui_app)
        assert target.read_text(encoding="utf-8") == "kept\n"
        await pilot.press("enter")
        await finish_export(tui_app, pilot)

    rows = read_csv(target)
    assert [r[0] for r in rows[1:]] == [first["number"], third["number"]]
    assert [r[-1] for r in rows[1:]] == [first["id"].lower(), third["id"].lower()]
    assert sorted(name for name in os.listdir(in_tmp) if "marked" in name) == ["marked.csv"]


async def test_the_log_and_a_jobs_errors_are_exported(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette, in_tmp: Path
) -> None:
    session = tui_backend.session
    [pair] = await coupled_customers(session, sandbox_app, 1)
    await make_skipped(session, sandbox_app, pair)

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_is(tui_app, "LogScreen") and bool(tui_app.screen.jobs))
        log = tui_app.screen
        await pilot.press("x")
        await accept_path(tui_app, pilot)
        await wait_for(pilot, lambda: "Wrote" in screen_text(tui_app))
        jobs_file = exported(in_tmp, rf"synchronization-log-{STAMP}\.csv")
        assert f"Wrote {len(log.jobs)} jobs to {jobs_file}." in screen_text(tui_app)

        await pilot.press("enter")  # the newest job: the second failed synchronization
        await wait_for(pilot, lambda: bool(log.errors))
        job_id = log.open_job_id
        await pilot.press("x")
        await accept_path(tui_app, pilot)
        await wait_for(pilot, lambda: "Wrote 1 error" in screen_text(tui_app))
        errors_file = exported(in_tmp, rf"job-{job_id}-errors-{STAMP}\.csv")

    jobs = read_csv(jobs_file)
    assert jobs[0] == list(LOG_HEADER)
    assert [int(r[0]) for r in jobs[1:]] == [job.id for job in log.jobs]
    assert [r[6] for r in jobs[1:]] == [str(job.status) for job in log.jobs]
    errors = read_csv(errors_file)
    assert errors[0] == list(JOB_ERROR_HEADER)
    assert [r[4] for r in errors[1:]] == [e.message for e in log.errors]
    assert [r[6] for r in errors[1:]] == [pair.bc_id]


async def test_the_errors_screen_is_exported(
    tui_backend: Backend, tui_app: BcTuiApp, sandbox_app: Starlette, in_tmp: Path
) -> None:
    session = tui_backend.session
    skipped, broken = await coupled_customers(session, sandbox_app, 2)
    await make_skipped(session, sandbox_app, skipped)
    await make_broken(session, sandbox_app, broken)

    async with tui_app.run_test(size=SIZE) as pilot:
        await open_errors(tui_app, pilot)
        screen = tui_app.screen
        await pilot.press("x")
        await accept_path(tui_app, pilot)
        await wait_for(pilot, lambda: "Wrote 2 couplings" in screen_text(tui_app))

    rows = read_csv(exported(in_tmp, rf"sync-errors-{STAMP}\.csv"))
    assert rows[0] == list(PROBLEM_HEADER)
    assert [(r[1], r[2], r[8]) for r in rows[1:]] == [(str(r.kind), r.description, r.bc_id) for r in screen.rows]
    by_id = {r[8]: r for r in rows[1:]}
    assert by_id[broken.bc_id][3:6] == ["yes", by_id[broken.bc_id][4], "no"]
    assert by_id[skipped.bc_id][1] == "skipped"


async def test_an_unwritable_path_is_one_sentence_and_writes_nothing(tui_app: BcTuiApp, in_tmp: Path) -> None:
    target = in_tmp / "no such folder" / "customers.csv"

    async with tui_app.run_test(size=SIZE) as pilot:
        await tui_app.workers.wait_for_complete()
        await pilot.press("x")
        await wait_for(pilot, lambda: screen_is(tui_app, "ExportPathDialog"))
        tui_app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(tui_app.screen, JobScreen) and not tui_app.screen.running)
        assert (
            f"The export stopped: Could not write {target}: no such file or directory; "
            "choose another folder or file name and export again." in screen_text(tui_app)
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_is(tui_app, "MainScreen"))
        assert "Exported" not in screen_text(tui_app)

    assert not [name for name in os.listdir(in_tmp) if "customers" in name or name.endswith(".part")]


@pytest.mark.usefixtures("snapshots_here")
def test_snapshot_export_dialog(snap_compare: Any, make_app: Any) -> None:
    """The export dialog over the customer list: what is written, the proposed path."""
    app, _ = make_app()

    async def open_dialog(pilot: Any) -> None:
        await pilot.app.workers.wait_for_complete()
        proposed = Path("/home/ada/customers-2026-12-02-1605.csv")
        pilot.app.push_screen(
            ExportPathDialog("Customers", proposed, "Every row of the list as filtered, page by page.")
        )
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=open_dialog)
