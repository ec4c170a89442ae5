"""What checking couplings costs: time and HTTP requests to look up both records of every
coupling of a table mapping (docs/coupling-and-sync.md "Checking couplings without a
synchronization"), against the two GETs per coupling a record-by-record check would send.

Usage: ``python benchmarks/check_couplings.py [--customers 10000] [--deleted 25]``

Over real HTTP, the sandbox in its own process, a SQLite coupling database: couples customers to
accounts by match-based coupling, deletes ``--deleted`` of the coupled accounts in Dataverse, then
runs check couplings over the CUSTOMER table mapping.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import max_rss_mib, sandbox_process
from sync_throughput import CountingTransport

from bc_tui.config import profile_from_sandbox_info
from bc_tui.connectors.models import DataverseAccount
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.sync.check import check_couplings
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import open_session


async def measure(customers: int, deleted: int) -> None:
    with sandbox_process(customers) as info, tempfile.TemporaryDirectory() as tmp:
        print(f"sandbox with {customers:,} customers started in {info['startup_s']:.1f} s")
        counter = CountingTransport()
        database = f"sqlite:///{Path(tmp) / 'coupling.sqlite'}"
        async with open_session(profile_from_sandbox_info(info), database, transport=counter) as session:
            await match_based_coupling(session, "CUSTOMER")
            couplings = await session.db(lambda: list(iter_couplings("CUSTOMER")))
            for coupling in couplings[:deleted]:
                await session.dataverse.delete(DataverseAccount, coupling.dataverse_id, "*")
            before, started = counter.requests, time.perf_counter()
            summary = await check_couplings(session, "CUSTOMER")
            seconds, requests = time.perf_counter() - started, counter.requests - before
        assert summary.count("failed") == min(deleted, len(couplings)), summary.message
        print(
            f"{summary.message} {seconds:.2f} s, {len(couplings) / seconds:,.0f} couplings/s, "
            f"{requests:,} HTTP requests (record by record: {2 * len(couplings):,}); "
            f"process peak RSS {max_rss_mib():.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--deleted", type=int, default=25)
    args = parser.parse_args()
    asyncio.run(measure(args.customers, args.deleted))


if __name__ == "__main__":
    main()
