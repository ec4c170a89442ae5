"""Match-based coupling of 100,000 customers over HTTP, against paging both tables with raw httpx.

Usage: ``python benchmarks/match_coupling.py [--customers 100000] [--profile]``

The sandbox runs in its own process on loopback (its CPU is not the client's). In the same run:

- baseline: raw httpx pages BC customers, then Dataverse accounts, following
  ``@odata.nextLink`` and counting rows (no typing, no store), with the same ``$select`` and page
  size as match-based coupling uses: the floor of any client that must read both tables;
- match-based coupling (``match_based_coupling``, CUSTOMER mapping, SQLite store on disk):
  reads both sides, matches, writes every coupling, logs the job.

It prints both times, their ratio (target <= 1.5x) and the client process's peak RSS.
``--profile`` runs the coupling under cProfile and prints the 25 most expensive functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import max_rss_mib, raw_token, sandbox_process

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.defaults import customer_mapping
from bc_tui.domain.matching import match_criteria
from bc_tui.store.coupling_queries import count_couplings
from bc_tui.sync.match import MATCH_PAGE_SIZE, bc_match_fields, dataverse_match_fields, match_based_coupling
from bc_tui.sync.progress import Progress
from bc_tui.sync.session import open_session


async def _page(client: httpx.AsyncClient, url: str | None, headers: dict[str, str]) -> int:
    count = 0
    while url:
        payload = (await client.get(url, headers=headers)).json()
        count += len(payload["value"])
        url = payload.get("@odata.nextLink")
    return count


async def raw_both(info: dict) -> tuple[int, int]:
    """Baseline: both tables paged with bare httpx, one after the other, same $select and page size."""
    mapping = customer_mapping()
    criteria = match_criteria(mapping)
    prefer = {"Prefer": f"odata.maxpagesize={MATCH_PAGE_SIZE}"}
    async with httpx.AsyncClient(timeout=300) as client:
        bc_token = await raw_token(info, info["bc_scope"], client)
        dv_token = await raw_token(info, info["dataverse_scope"], client)
        bc_url = (
            f"{info['bc_api']}companies({info['company_id']})/customers?$select={','.join(bc_match_fields(criteria))}"
        )
        dv_url = f"{info['dataverse_api']}accounts?$select={','.join(dataverse_match_fields(mapping, criteria))}"
        bc = await _page(client, bc_url, {"Authorization": f"Bearer {bc_token}", **prefer})
        dv = await _page(client, dv_url, {"Authorization": f"Bearer {dv_token}", **prefer})
    return bc, dv


async def coupling(info: dict, database: str) -> tuple[int, int]:
    """Match-based coupling of the CUSTOMER mapping; prints when each phase (the job's status line) began."""
    started = time.perf_counter()
    phases: list[tuple[float, str]] = []

    def progress(now: Progress) -> None:
        label = now.current or "recording outcomes"
        if not phases or phases[-1][1] != label:
            phases.append((time.perf_counter() - started, label))

    async with open_session(profile_from_sandbox_info(info), database) as session:
        summary = await match_based_coupling(session, "CUSTOMER", progress=progress)
        phases.append((time.perf_counter() - started, "job logged"))
        made = await session.db(count_couplings, "CUSTOMER")
    print("  phases: " + "; ".join(f"{at:.1f} s {label}" for at, label in phases))
    return summary.counters.get("coupled", 0), made


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="run the coupling under cProfile")
    args = parser.parse_args()
    with sandbox_process(args.customers) as info, tempfile.TemporaryDirectory() as tmp:
        print(f"sandbox with {args.customers:,} customers started (seeded) in {info['startup_s']:.1f} s")
        await raw_both(info)  # unmeasured: the server's first-request warm-up is nobody's
        started = time.perf_counter()
        bc_rows, dv_rows = await raw_both(info)
        raw_s = time.perf_counter() - started
        print(f"baseline: raw httpx pages both tables ({bc_rows:,} customers + {dv_rows:,} accounts): {raw_s:7.2f} s")
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        coupled, stored = await coupling(info, f"sqlite:///{tmp}/coupling.sqlite")
        if profiler:
            profiler.disable()
        match_s = time.perf_counter() - started
        print(f"match-based coupling over HTTP: {coupled:,} coupled ({stored:,} in the store): {match_s:7.2f} s")
        ratio = match_s / raw_s
        verdict = "met" if ratio <= 1.5 else "NOT met"
        print(f"match-based coupling / raw paging of both tables: {ratio:.2f}x (target <= 1.5x: {verdict})")
        print(f"client process peak RSS: {max_rss_mib():.0f} MiB")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    asyncio.run(main())
