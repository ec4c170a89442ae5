"""What keeping each job's changes costs: coupling database growth per 10,000 synchronized
records, the synchronization's time with and without it, and undoing 10,000 records.

Usage: ``python benchmarks/history_growth.py [--records 10000]``

Over real HTTP, the sandbox in its own process, a SQLite coupling database:
- couples customers to accounts by match-based coupling and synchronizes ``--records`` of them
  once (their baseline);
- baseline: changes the phone number of each in BC and sends them to Dataverse with the
  recording of changes switched off (the store as it was before undo and history);
- the same with recording: database growth (pages in use after a checkpoint) and time;
- undo of that job: time beside the synchronization it takes back, and the growth the undo job
  itself adds (it keeps what it overwrote too).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import max_rss_mib, sandbox_process
from sync_throughput import CountingTransport, change_customers

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.sync import engine
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many
from bc_tui.sync.undo import undo


def used_bytes(path: Path) -> tuple[int, int]:
    """Bytes in use by the database (pages minus free pages, after a checkpoint) and the rows
    of ``record_changes``."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
        rows = db.execute("SELECT count(*) FROM record_changes").fetchone()[0]
    return pages * page_size, rows


async def timed(counter: CountingTransport, work: Callable[[], Awaitable[Any]]) -> tuple[float, int, Any]:
    before, started = counter.requests, time.perf_counter()
    result = await work()
    return time.perf_counter() - started, counter.requests - before, result


def line(label: str, records: int, seconds: float, requests: int, growth: int | None = None) -> str:
    grown = "" if growth is None else f"  +{growth / 2**20:6.2f} MiB ({growth / records:5.0f} B/record)"
    return (
        f"{label:<50} {records:>7,} records  {seconds:7.2f} s  {records / seconds:7,.0f} records/s  "
        f"{requests:>5,} HTTP requests{grown}"
    )


async def measure(records: int) -> None:
    customers = int(records * 1.8)  # about 60 % of demo customers have a same-named account
    with sandbox_process(customers) as info, tempfile.TemporaryDirectory() as tmp:
        print(f"sandbox with {customers:,} customers started in {info['startup_s']:.1f} s")
        database = Path(tmp) / "coupling.sqlite"
        counter = CountingTransport()
        async with open_session(profile_from_sandbox_info(info), f"sqlite:///{database}", transport=counter) as session:
            await match_based_coupling(session, "CUSTOMER")
            ids = [c.bc_id for c in iter_couplings("CUSTOMER")][:records]
            if len(ids) < records:
                raise SystemExit(f"only {len(ids)} couplings; raise the sandbox size")
            await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE, force=True)

            async def send() -> Any:
                return await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE)

            # Baseline: the same job with the recording of changes switched off (instrumentation).
            recording = engine.record_changes
            engine.record_changes = lambda entries: None  # type: ignore[assignment]
            await change_customers(session, ids, 1)
            size0, _ = used_bytes(database)
            seconds0, requests0, _ = await timed(counter, send)
            size1, _ = used_bytes(database)
            engine.record_changes = recording

            await change_customers(session, ids, 2)
            seconds1, requests1, job = await timed(counter, send)
            size2, rows = used_bytes(database)
            assert job.counters.get("modified") == records and rows >= records, (job.counters, rows)

            seconds2, requests2, undone = await timed(counter, lambda: undo(session, job.job_id))
            size3, _ = used_bytes(database)
            assert undone.counters.get("modified") == records, undone.message

        print(line("baseline: synchronize_many, nothing kept", records, seconds0, requests0, size1 - size0))
        print(line("synchronize_many, keeping what it overwrote", records, seconds1, requests1, size2 - size1))
        print(line("undo of that job (itself kept, so undoable)", records, seconds2, requests2, size3 - size2))
        per_10k = (size2 - size1 - (size1 - size0)) * 10_000 / records
        print(
            f"history growth per 10,000 synchronized records: {per_10k / 2**20:.2f} MiB beyond the baseline "
            f"(one changed field each); sync time {seconds1 / seconds0 - 1:+.0%} against the baseline; "
            f"undo {seconds2 / seconds1:.2f}x the synchronization it takes back; "
            f"process peak RSS {max_rss_mib():.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(measure(args.records))


if __name__ == "__main__":
    main()
