"""How responsive the customer list is over 100,000 customers, and what it costs in memory.

Usage: ``python benchmarks/tui_list.py [--customers 100000]``

The sandbox runs in its own process on loopback (``bc-tui sandbox serve``), so its CPU is not
counted against the app. In the same run it measures:

- the app: the real ``BcTuiApp`` driven headless (``run_test(size=(120, 40))``): the time from
  start until the customer list shows its first rows (connection, ``$count`` and the first page
  included), the time for ``G`` until the last row is on screen, and the app's memory (Python
  heap peak by tracemalloc, and the process's resident set size);
- the baseline: what a list that loads the whole table costs: every customer read with the BC
  connector (5,000 per page) and added to a Textual ``DataTable`` in an app of the same size;
  time until its first rows show, ``G`` until the last row shows, and memory.

Timings come from a pass without tracemalloc (it slows Python several times), the heap peak
from a second, traced pass. The app is measured first, so the RSS figure of the baseline
includes the app's (RSS rarely shrinks); the heap peaks are per pass.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _sandbox import max_rss_mib, sandbox_process

SIZE = (120, 40)


def current_rss_mib() -> float:
    """This process's resident set size now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return max_rss_mib()


async def wait_for(pilot: Any, condition: Callable[[], bool], what: str, patience_s: float = 600.0) -> None:
    """Pause in small steps until ``condition()`` holds."""
    deadline = time.perf_counter() + patience_s
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await pilot.pause(0.005)


async def measure_app(info: dict[str, Any], database_url: str, *, trace: bool) -> dict[str, float]:
    """The real app: first rows, G to the last row, memory (heap peak only when ``trace``)."""
    from bc_tui.config import profile_from_sandbox_info
    from bc_tui.tui.app import BcTuiApp
    from bc_tui.tui.backend import Backend

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    backend = Backend(profile_from_sandbox_info(info), database_url)
    app = BcTuiApp(backend=backend, close_backend=True)
    result: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        record_list = app.main_screen.record_list("customers")
        assert record_list is not None

        def first_rows() -> bool:
            row = record_list.row_at(0)
            return row is not None and row.cells["number"][:7] in record_list.render_lines_text()[1]

        await wait_for(pilot, first_rows, "the list's first rows")
        result["first_rows_s"] = time.perf_counter() - started
        await wait_for(pilot, lambda: record_list.count_known, "the list's count")
        result["rows"] = record_list.row_count
        pressed = time.perf_counter()
        await pilot.press("G")

        def last_row_shown() -> bool:
            last = record_list.row_count - 1
            row = record_list.row_at(last)
            return (
                record_list.cursor_row == last
                and row is not None
                and row.cells["number"][:7] in record_list.render_lines_text()[-1]
            )

        await wait_for(pilot, last_row_shown, "the list's last row")
        result["last_row_s"] = time.perf_counter() - pressed
        result["cached_rows"] = sum(len(page) for page in record_list._pages.values())
        if trace:
            _, peak = tracemalloc.get_traced_memory()
            result["heap_peak_mib"] = peak / 2**20
        result["rss_mib"] = current_rss_mib()
    tracemalloc.stop()
    return result


async def measure_datatable(info: dict[str, Any], *, trace: bool) -> dict[str, float]:
    """Baseline: read every customer with the connector and put them all in a DataTable."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from bc_tui.config import profile_from_sandbox_info
    from bc_tui.connectors import BcCustomer
    from bc_tui.sync.session import bc_client

    columns = ("number", "displayName", "city", "phoneNumber", "email")

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    app = Baseline()
    result: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("No.", "Name", "City", "Phone", "E-mail")
        client = bc_client(profile_from_sandbox_info(info))
        fetched = 0
        try:
            async for page in client.pages(BcCustomer, select=columns, page_size=5000):
                table.add_rows([tuple(str(c.data.get(k) or "") for k in columns) for c in page])
                fetched += len(page)
        finally:
            await client.aclose()
        result["fetch_and_add_s"] = time.perf_counter() - started
        table.focus()
        await wait_for(pilot, lambda: table.row_count == fetched, "the table's rows")
        await pilot.pause()
        result["first_rows_s"] = time.perf_counter() - started
        result["rows"] = table.row_count
        pressed = time.perf_counter()
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: table.cursor_row == table.row_count - 1, "the table's last row")
        await pilot.pause()
        result["last_row_s"] = time.perf_counter() - pressed
        if trace:
            _, peak = tracemalloc.get_traced_memory()
            result["heap_peak_mib"] = peak / 2**20
        result["rss_mib"] = current_rss_mib()
    tracemalloc.stop()
    return result


def say(text: str) -> None:
    """Print and flush (the run is long: show each figure as it comes)."""
    print(text, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    with (
        tempfile.TemporaryDirectory(prefix="bc-tui-bench-tui-") as tmp,
        sandbox_process(args.customers, Path(tmp) / "sandbox") as info,
    ):
        say(
            f"sandbox with {args.customers:,} customers started in {info['startup_s']:.1f} s "
            f"(separate process, {info['bc_api'].split('/v2.0')[0]})"
        )
        database = f"sqlite:///{Path(tmp) / 'coupling.sqlite'}"
        # Timings from a pass without tracemalloc (it slows Python down several times);
        # the heap peak from a second, traced pass.
        app = asyncio.run(measure_app(info, database, trace=False))
        app["heap_peak_mib"] = asyncio.run(measure_app(info, database, trace=True))["heap_peak_mib"]
        say(
            f"bc-tui RecordList        rows {int(app['rows']):>8,}  first rows {app['first_rows_s']:6.2f} s  "
            f"G → last row {app['last_row_s']:6.2f} s  heap peak {app['heap_peak_mib']:7.1f} MiB  "
            f"RSS {app['rss_mib']:7.1f} MiB  (rows held: {int(app['cached_rows']):,})"
        )
        base = asyncio.run(measure_datatable(info, trace=False))
        base["heap_peak_mib"] = asyncio.run(measure_datatable(info, trace=True))["heap_peak_mib"]
        say(
            f"baseline DataTable (all) rows {int(base['rows']):>8,}  first rows {base['first_rows_s']:6.2f} s  "
            f"G → last row {base['last_row_s']:6.2f} s  heap peak {base['heap_peak_mib']:7.1f} MiB  "
            f"RSS {base['rss_mib']:7.1f} MiB  (fetch + add_rows {base['fetch_and_add_s']:.2f} s)"
        )
        say(f"process peak RSS {max_rss_mib():.1f} MiB")


if __name__ == "__main__":
    main()
