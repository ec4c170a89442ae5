"""How fast one connector pages through 100,000 records, and how much memory it holds.

Usage: ``python benchmarks/connector_paging.py [--customers 100000] [--page-size 5000]``

The sandbox runs in its own process on loopback (so its CPU is not counted against the
client). In the same run it measures three ways of reading every customer:

- baseline, raw httpx: a bare loop that follows ``@odata.nextLink`` and counts rows; the floor
  for any client over this server;
- baseline, load all: the same, but keeping every row in a list (what "load the whole table"
  costs in memory);
- the connector: ``BusinessCentralClient.rows`` (typed rows, auth, limiter, retry)
  streaming page by page; and the Dataverse connector over accounts.

Peak memory is the Python heap peak (tracemalloc) of the client during that pass. Then the ratio
of the BC connector's time to raw httpx streaming over the same customers: the two alternate
``--rounds`` times and each keeps its best, in wall time (the target) and in this process's CPU
time (the server's is not counted, so a loaded machine or a slow server moves it less).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import max_rss_mib, measure, raw_token, sandbox_process

from bc_tui.connectors.business_central import BusinessCentralClient
from bc_tui.connectors.credentials import ServiceCredentials
from bc_tui.connectors.dataverse import DataverseClient
from bc_tui.connectors.models import BcCustomer, DataverseAccount


async def raw_paging(info: dict, page_size: int, keep: bool) -> int:
    """Baseline: plain httpx, no typing, no limiter, no retry."""
    token = await raw_token(info, info["bc_scope"])
    url: str | None = f"{info['bc_api']}companies({info['company_id']})/customers"
    headers = {"Authorization": f"Bearer {token}", "Prefer": f"odata.maxpagesize={page_size}"}
    kept: list[dict] = []
    count = 0
    async with httpx.AsyncClient(timeout=120) as client:
        while url:
            payload = (await client.get(url, headers=headers)).json()
            rows = payload["value"]
            count += len(rows)
            if keep:
                kept.extend(rows)
            url = payload.get("@odata.nextLink")
    return count


async def connector_bc(info: dict, page_size: int) -> int:
    credentials = ServiceCredentials(info["token_url"], info["client_id"], info["client_secret"], info["bc_scope"])
    count = 0
    async with BusinessCentralClient(info["bc_api"], info["company_id"], credentials) as bc:
        async for _customer in bc.rows(BcCustomer, page_size=page_size):
            count += 1
    return count


async def connector_dataverse(info: dict, page_size: int) -> int:
    credentials = ServiceCredentials(
        info["token_url"], info["client_id"], info["client_secret"], info["dataverse_scope"]
    )
    count = 0
    async with DataverseClient(info["dataverse_api"], credentials) as dataverse:
        async for _account in dataverse.rows(DataverseAccount, page_size=page_size):
            count += 1
    return count


async def timed(run: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    """One pass of ``run``: (wall seconds, this process's CPU seconds; the server's are not ours)."""
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    return time.perf_counter() - wall, time.process_time() - cpu


async def ratio_rounds(rounds: int, raw: Callable[[], Awaitable[int]], connector: Callable[[], Awaitable[int]]) -> str:
    """The connector against raw httpx, alternating ``rounds`` times; the best time of each.

    On a shared machine one pass can be slowed by anything else running; alternating the two
    and keeping each one's best compares them at their least disturbed."""
    raw_wall, raw_cpu, conn_wall, conn_cpu = [], [], [], []
    for _ in range(rounds):
        wall, cpu = await timed(raw)
        raw_wall.append(wall)
        raw_cpu.append(cpu)
        wall, cpu = await timed(connector)
        conn_wall.append(wall)
        conn_cpu.append(cpu)
    ratio = min(conn_wall) / min(raw_wall)
    return (
        f"connector paging / raw httpx streaming, best of {rounds} alternating rounds: wall time "
        f"{min(conn_wall):.2f} s / {min(raw_wall):.2f} s = {ratio:.2f}x "
        f"(target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'}); client CPU "
        f"{min(conn_cpu):.2f} s / {min(raw_cpu):.2f} s = {min(conn_cpu) / min(raw_cpu):.2f}x"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds for the ratio")
    args = parser.parse_args()
    with sandbox_process(args.customers) as info:
        print(
            f"sandbox with {args.customers:,} customers started (seeded) in {info['startup_s']:.1f} s; "
            f"page size {args.page_size}"
        )
        # One unmeasured pass, so that no variant pays for the server's first-request warm-up.
        await raw_paging(info, args.page_size, keep=False)
        results = [
            await measure("baseline: raw httpx, streaming", lambda: raw_paging(info, args.page_size, keep=False)),
            await measure(
                "baseline: raw httpx, load all into a list", lambda: raw_paging(info, args.page_size, keep=True)
            ),
            await measure("connector: BC rows(BcCustomer) (streaming)", lambda: connector_bc(info, args.page_size)),
            await measure(
                "connector: Dataverse rows(DataverseAccount) (streaming)",
                lambda: connector_dataverse(info, min(args.page_size, 5000)),
            ),
        ]
        for result in results:
            print(result.line())
        print(
            await ratio_rounds(
                args.rounds,
                lambda: raw_paging(info, args.page_size, keep=False),
                lambda: connector_bc(info, args.page_size),
            )
        )
        print(f"client process peak RSS: {max_rss_mib():.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
