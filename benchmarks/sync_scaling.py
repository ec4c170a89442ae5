"""Synchronizing 10,000 vs 100,000 coupled customers: time, peak RSS, and the ratio of the times.

Usage: ``python benchmarks/sync_scaling.py [--sizes 10000 100000]``

For each size, over real HTTP with the sandbox in its own process (seeded with enough
customers that match-based coupling couples at least that many):

1. a child process couples the customers by match-based coupling (not timed here; see
   benchmarks/match_coupling.py) into a SQLite store on disk;
2. another child process synchronizes that many couplings once to Dataverse
   (``synchronize_many``, whole records: the first synchronization of fresh couplings writes
   every record) and reports its wall time and its own peak RSS (``ru_maxrss``), so that the
   coupling step and the other size do not count in it.

The baseline is the 10,000 run of the same script: a linear engine takes 10x as long for 10x
the records (target <= 11x), and its memory must not grow with the job (target <= 250 MB at
100,000).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox_process

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many

#: About 70 % of the sandbox's demo customers get coupled by name (measured: 71,615 of 100,000).
CUSTOMERS_PER_COUPLING = 1.5


async def _couple(info: dict, database: str) -> None:
    async with open_session(profile_from_sandbox_info(info), database) as session:
        await match_based_coupling(session, "CUSTOMER")


async def _synchronize(info: dict, database: str, size: int) -> dict[str, float]:
    async with open_session(profile_from_sandbox_info(info), database) as session:
        ids = await session.db(lambda: [c.bc_id for _, c in zip(range(size), iter_couplings("CUSTOMER"), strict=False)])
        if len(ids) < size:
            raise SystemExit(f"only {len(ids):,} couplings for {size:,} records; seed a bigger sandbox")
        started = time.perf_counter()
        summary = await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE, whole_record=True)
        seconds = time.perf_counter() - started
    return {
        "records": len(ids),
        "seconds": seconds,
        "modified": summary.counters.get("modified", 0),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(step: str, info: dict, database: str, size: int) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            step,
            "--info",
            json.dumps(info),
            "--database",
            database,
            "--size",
            str(size),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


def measure(size: int) -> dict[str, float]:
    customers = int(size * CUSTOMERS_PER_COUPLING)
    with sandbox_process(customers) as info, tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{tmp}/coupling.sqlite"
        _child("couple", info, database, size)
        result = _child("sync", info, database, size)
    print(
        f"synchronize {result['records']:>8,.0f} records ({result['modified']:,.0f} modified): "
        f"{result['seconds']:7.1f} s  {result['records'] / result['seconds']:7,.0f} records/s  "
        f"peak RSS {result['peak_rss_mib']:6.0f} MiB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000])
    parser.add_argument("--child", choices=["couple", "sync"], help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "couple":
        asyncio.run(_couple(json.loads(args.info), args.database))
        return
    if args.child == "sync":
        print(json.dumps(asyncio.run(_synchronize(json.loads(args.info), args.database, args.size))))
        return
    small, large = (measure(size) for size in args.sizes)
    ratio = large["seconds"] / small["seconds"]
    size_ratio = large["records"] / small["records"]
    print(
        f"{large['records']:,.0f} / {small['records']:,.0f} records: time ratio {ratio:.1f}x for {size_ratio:.0f}x the "
        f"records (target <= 11x: {'met' if ratio <= 11 else 'NOT met'}); peak RSS at {large['records']:,.0f}: "
        f"{large['peak_rss_mib']:.0f} MiB (target <= 250 MB: {'met' if large['peak_rss_mib'] * 1.048576 <= 250 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
