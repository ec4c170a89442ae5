"""Export to CSV through the read model: page by page over HTTP, values escaped and guarded
against formulas, written whole or not at all (docs/showing-data.md "Export to CSV")."""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.sync_state import SyncState
from bc_tui.sandbox.inprocess import asgi_transport
from bc_tui.sync.bc_list import BcList
from bc_tui.sync.dataverse_list import DataverseList
from bc_tui.sync.export import ExportError, csv_cell, default_file_name, export_list, log_rows, write_table
from bc_tui.sync.list_query import CoupledFilter, ListQuery
from bc_tui.sync.logged_jobs import recent_jobs
from bc_tui.sync.session import SyncSession, open_session
from tests.sync.coupled_pairs import MAPPING, coupled_customers, edit_bc, store_of


class RecordingTransport(httpx.AsyncBaseTransport):
    """The sandbox's transport, remembering every request sent to it (the request log)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def recorded(
    sandbox_app: Starlette, sandbox_info: dict[str, Any], database_url: str
) -> AsyncIterator[tuple[SyncSession, RecordingTransport]]:
    """A session whose requests to the sandbox are recorded."""
    transport = RecordingTransport(asgi_transport(sandbox_app))
    async with open_session(profile_from_sandbox_info(sandbox_info), database_url, transport=transport) as opened:
        yield opened, transport


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def bc_customers(app: Starlette) -> list[dict[str, Any]]:
    """The sandbox's customers in the order of a list sorted by Name (``$orderby=displayName,number``,
    text compared without case as the services do). Sorted by No., a small table is ordered by our
    read model from one read of every number ("The order of numbers"), not read page by page."""
    rows = store_of(app).rows("bc/customers")
    return sorted(rows, key=lambda r: (r["displayName"].casefold(), r["number"].casefold()))


async def test_a_list_is_exported_page_by_page_in_list_order(
    recorded: tuple[SyncSession, RecordingTransport], sandbox_app: Starlette, tmp_path: Path
) -> None:
    session, transport = recorded
    customers = BcList(lambda: session, MAPPING, ListQuery(sort="Name"))
    target = tmp_path / "customers.csv"
    seen: list[int] = []
    transport.urls.clear()

    exported = await export_list(customers, target, page_size=20, progress=lambda p: seen.append(p.done))

    expected = bc_customers(sandbox_app)
    rows = read_csv(target)
    assert rows[0] == ["No.", "Name", "City", "Phone", "E-mail", "Coupled", "Dataverse name", "Sync state", "Id"]
    assert exported.rows == len(expected) == len(rows) - 1 == 50
    assert [r[0] for r in rows[1:]] == [c["number"] for c in expected]
    assert [r[1] for r in rows[1:]] == [csv_cell(c["displayName"]) for c in expected]
    assert {r[5] for r in rows[1:]} == {"no"}
    pages = [
        parse_qs(url.query.decode())
        for url in transport.urls
        if url.path.endswith("/customers") and "$top" in parse_qs(url.query.decode())
    ]
    assert [(p["$skip"][0], p["$top"][0]) for p in pages] == [("0", "20"), ("20", "20"), ("40", "20")]
    assert seen == [20, 40, 50]


async def test_a_filtered_list_exports_only_its_rows_with_their_coupling(
    session: SyncSession, sandbox_app: Starlette, tmp_path: Path
) -> None:
    pairs = await coupled_customers(session, sandbox_app, 2)
    edit_bc(sandbox_app, pairs[0].bc_id, city="Springfield")
    coupled = BcList(lambda: session, MAPPING, ListQuery(coupled=CoupledFilter.COUPLED))
    target = tmp_path / "coupled.csv"

    exported = await export_list(coupled, target, page_size=1)

    rows = read_csv(target)[1:]
    assert exported.rows == 2
    assert {r[8] for r in rows} == {p.bc_id for p in pairs}
    by_id = {r[8]: r for r in rows}
    assert by_id[pairs[0].bc_id][2] == "Springfield" and by_id[pairs[0].bc_id][7] == SyncState.CHANGED_IN_BC.value
    assert all(r[5] == "yes" and r[6] for r in rows)


async def test_only_the_marked_rows_are_exported_and_reading_stops_when_all_are_found(
    recorded: tuple[SyncSession, RecordingTransport], sandbox_app: Starlette, tmp_path: Path
) -> None:
    session, transport = recorded
    first_three = [c["id"].lower() for c in bc_customers(sandbox_app)[:3]]
    marked = {first_three[0], first_three[2]}
    transport.urls.clear()

    exported = await export_list(
        BcList(lambda: session, MAPPING, ListQuery(sort="Name")),
        tmp_path / "marked.csv",
        only=marked,
        wanted=2,
        page_size=10,
    )

    assert exported.rows == 2
    assert [r[8] for r in read_csv(tmp_path / "marked.csv")[1:]] == [first_three[0], first_three[2]]
    assert sum(1 for url in transport.urls if "$skip" in url.query.decode()) == 1


async def test_a_dataverse_list_follows_its_next_links(
    session: SyncSession, sandbox_app: Starlette, tmp_path: Path
) -> None:
    accounts = DataverseList(lambda: session, MAPPING, ListQuery(sort="Name"), raw_page_size=7)
    exported = await export_list(accounts, tmp_path / "accounts.csv", page_size=7)
    rows = read_csv(tmp_path / "accounts.csv")
    assert rows[0] == ["Name", "City", "Phone", "E-mail", "Coupled", "BC No.", "Id"]
    in_sandbox = {a["accountid"].lower() for a in store_of(sandbox_app).rows("dv/accounts")}
    assert exported.rows == len(in_sandbox) == len(rows) - 1 > 7
    assert {r[6] for r in rows[1:]} == in_sandbox


def test_formulas_are_written_as_text(tmp_path: Path) -> None:
    target = tmp_path / "hostile.csv"
    values = ["=1+1", "+31 20", "-5", "@SUM(A1)", "\tx", "\rx", 'a "quoted", value\nwith a line', "plain", None]
    write_table(target, ["value"], [[v] for v in values])
    assert [r[0] for r in read_csv(target)[1:]] == [
        "'=1+1",
        "'+31 20",
        "'-5",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        'a "quoted", value\nwith a line',
        "plain",
        "",
    ]


def test_an_unwritable_folder_names_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # Root writes into a 0500 folder anyway (CI runs as root): then /sys, which the kernel keeps
    # closed to file creation even for root, stands in for the folder the user may not write to.
    folder = locked if not os.access(locked, os.W_OK) else Path("/sys")
    try:
        with pytest.raises(ExportError) as raised:
            write_table(folder / "log.csv", ["a"], [[1]])
        sentence = str(raised.value)
        assert f"{folder.name}/log.csv" in sentence and "choose another" in sentence
        assert "permission denied" in sentence or "read-only file system" in sentence
        assert not (folder / "log.csv").exists() and list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_missing_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"no such file or directory; choose another folder"):
        write_table(tmp_path / "nowhere" / "log.csv", ["a"], [[1]])


def test_a_folder_in_the_way_is_one_sentence_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "log.csv").mkdir()
    with pytest.raises(ExportError, match=r"log.csv: is a directory; choose another folder or file name"):
        write_table(tmp_path / "log.csv", ["a"], [[1]])
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]


def test_a_failure_midway_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "log.csv"
    target.write_text("old\n", encoding="utf-8")

    def rows() -> Any:
        yield [1]
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError):
        write_table(target, ["a"], rows())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]


async def test_a_cancelled_export_leaves_nothing(session: SyncSession, tmp_path: Path) -> None:
    target = tmp_path / "customers.csv"
    started = asyncio.Event()

    def progress(_: Any) -> None:
        started.set()

    task = asyncio.create_task(export_list(BcList(lambda: session, MAPPING), target, page_size=1, progress=progress))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not [name for name in os.listdir(tmp_path) if "customers" in name]


async def test_the_log_exports_its_jobs(session: SyncSession, sandbox_app: Starlette, tmp_path: Path) -> None:
    await coupled_customers(session, sandbox_app, 1)
    jobs = await recent_jobs(session, 10)
    write_table(
        tmp_path / "log.csv", ["Job", "Started", "Finished", "Type"], ([r[0], r[1], r[2], r[3]] for r in log_rows(jobs))
    )
    rows = read_csv(tmp_path / "log.csv")[1:]
    assert [int(r[0]) for r in rows] == [job.id for job in jobs]
    assert [r[3] for r in rows] == [str(job.type) for job in jobs]


def test_the_default_name_is_readable_and_timestamped() -> None:
    from datetime import datetime

    assert default_file_name("customers", datetime(2026, 12, 2, 16, 5, tzinfo=UTC)) == ("customers-2026-12-02-1605.csv")
