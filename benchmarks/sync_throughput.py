"""Synchronizing 10,000 changed, coupled customers, and match-based coupling at 100,000 × 100,000.

Usage: ``python benchmarks/sync_throughput.py [--records 10000] [--match-size 100000]``

Part 1 (over real HTTP, the sandbox in its own process):
- couples customers to accounts by match-based coupling and synchronizes them once, so that
  every coupling has a baseline;
- changes ``--records`` coupled customers in BC (one batched PATCH per customer);
- engine: ``synchronize_many`` sends them to Dataverse (batched reads and writes);
- baseline: the same changes again, then a naive loop of one GET (BC) + one PATCH (Dataverse)
  per record, as a script without batching would do.
Both print seconds, records/s and the HTTP requests they made; peak memory is the Python heap
peak (tracemalloc) during a second, identical pass.

Part 2 (pure algorithm, in memory): the engine's hash-based matcher over ``--match-size``
BC × Dataverse records, beside a nested-loop matcher timed on a sample and extrapolated
(quadratic), since the nested loop at full size would take hours.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import max_rss_mib, sandbox_process

from bc_tui.config import profile_from_sandbox_info
from bc_tui.connectors.batch import BatchOperation
from bc_tui.connectors.models import BcCustomer, DataverseAccount
from bc_tui.domain.defaults import customer_mapping
from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.matching import match_criteria, match_records
from bc_tui.domain.transfer import transfer
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the HTTP requests that really go over the wire (benchmark instrumentation)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def change_customers(session: Any, ids: list[str], round_: int) -> None:
    """A colleague edits these customers in BC: a new phone number each."""
    rows = {}
    async for page in session.bc.pages(BcCustomer, page_size=5000):
        for customer in page:
            rows[customer.id.lower()] = customer
    operations = [
        BatchOperation.update(
            BcCustomer, customer_id, rows[customer_id].etag, {"phoneNumber": f"+1 555 {round_:02d}{n:05d}"}
        )
        for n, customer_id in enumerate(ids)
    ]
    results = await session.bc.batch(operations)
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"could not change the customers: {failed[0].error}")


async def naive_send(session: Any, pairs: list[tuple[str, str]]) -> int:
    """Baseline: one GET + one PATCH per record, sequential, no batching."""
    mapping = customer_mapping()
    for bc_id, dataverse_id in pairs:
        customer = await session.bc.get(BcCustomer, bc_id)
        account = await session.dataverse.get(DataverseAccount, dataverse_id)
        changes = transfer(dict(customer.data), dict(account.data), mapping, SyncDirection.TO_DATAVERSE).payload()
        if changes:
            await session.dataverse.update(DataverseAccount, dataverse_id, account.etag, changes)
    return len(pairs)


async def timed(label: str, counter: CountingTransport, work: Callable[[], Awaitable[int]]) -> tuple[float, int, int]:
    before = counter.requests
    started = time.perf_counter()
    records = await work()
    seconds = time.perf_counter() - started
    requests = counter.requests - before
    print(
        f"{label:<52} {records:>7,} records  {seconds:7.2f} s  {records / seconds:8,.0f} records/s  "
        f"{requests:>7,} HTTP requests ({requests / max(records, 1):.2f} per record)"
    )
    return seconds, records, requests


async def peak_of(work: Callable[[], Awaitable[Any]]) -> float:
    tracemalloc.start()
    await work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


async def measure_over_http(records: int) -> None:
    customers = int(records * 1.8)  # about 60 % of demo customers have a same-named account
    with sandbox_process(customers) as info, tempfile.TemporaryDirectory() as tmp:
        print(f"sandbox with {customers:,} customers started in {info['startup_s']:.1f} s")
        counter = CountingTransport()
        profile = profile_from_sandbox_info(info)
        async with open_session(profile, f"sqlite:///{tmp}/coupling.sqlite", transport=counter) as session:
            started = time.perf_counter()
            matched = await match_based_coupling(session, "CUSTOMER")
            print(
                f"match-based coupling over HTTP: {matched.counters.get('coupled', 0):,} coupled in "
                f"{time.perf_counter() - started:.1f} s"
            )
            coupled = [(c.bc_id, c.dataverse_id) for c in iter_couplings("CUSTOMER")]
            if len(coupled) < records:
                raise SystemExit(f"only {len(coupled)} couplings; raise the sandbox size")
            pairs = coupled[:records]
            ids = [bc_id for bc_id, _ in pairs]
            # Couplings made by matching were never synchronized: force one run to set their baseline.
            started = time.perf_counter()
            await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE, whole_record=True)
            print(f"first (forced) synchronization of {len(ids):,} couplings: {time.perf_counter() - started:.1f} s")

            async def engine() -> int:
                summary = await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE)
                return summary.counters.get("modified", 0)

            await change_customers(session, ids, 1)
            engine_s, _, _ = await timed("engine: synchronize_many, to Dataverse", counter, engine)
            await change_customers(session, ids, 2)
            engine_peak = await peak_of(engine)

            await change_customers(session, ids, 3)
            naive_s, _, _ = await timed(
                "baseline: naive loop, GET + PATCH per record", counter, lambda: naive_send(session, pairs)
            )
            speedup = naive_s / engine_s
            print(
                f"engine / naive loop: {speedup:.1f}x faster (target >= 10x: {'met' if speedup >= 10 else 'NOT met'})"
            )
            await change_customers(session, ids, 4)
            naive_peak = await peak_of(lambda: naive_send(session, pairs))
            print(
                f"peak Python heap: engine {engine_peak:.1f} MiB, naive loop {naive_peak:.1f} MiB; "
                f"process peak RSS {max_rss_mib():.0f} MiB"
            )


def _records(n: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    bc = [{"id": f"b{i}", "displayName": f"Company {i:06d}", "email": f"c{i}@example.com"} for i in range(n)]
    order = list(range(n))
    rng.shuffle(order)
    # Most have a same-named account, some differ in case, some exist in Dataverse only.
    dv = []
    for j, i in enumerate(order):
        name = f"Company {i:06d}" if j % 10 else f"COMPANY {i:06d}"
        dv.append(
            {"accountid": f"a{i}", "name": name if j % 7 else f"Other {i:06d}", "emailaddress1": f"c{i}@example.com"}
        )
    return bc, dv


def nested_loop(bc: list[dict], dv: list[dict]) -> int:
    """What a naive matcher does: every BC record against every Dataverse record."""
    coupled = 0
    taken: set[str] = set()
    for record in bc:
        name = record["displayName"].casefold()
        hits = [a for a in dv if a["name"].casefold() == name and a["accountid"] not in taken]
        if len(hits) == 1:
            taken.add(hits[0]["accountid"])
            coupled += 1
    return coupled


def measure_matching(size: int) -> None:
    criteria = match_criteria(customer_mapping())
    bc, dv = _records(size, 7)
    started = time.perf_counter()
    results = list(match_records(bc, dv, criteria, dataverse_key="accountid", mapping_name="CUSTOMER"))
    seconds = time.perf_counter() - started
    coupled = sum(1 for r in results if r.dataverse_id)
    tracemalloc.start()
    list(match_records(bc, dv, criteria, dataverse_key="accountid", mapping_name="CUSTOMER"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"engine: hash-based matching {size:,} x {size:,}: {seconds:.2f} s, {coupled:,} coupled, "
        f"peak {peak / 2**20:.1f} MiB (records themselves excluded: they are built before)"
    )
    sample = 2000
    started = time.perf_counter()
    nested_loop(bc[:sample], dv[:sample])
    small = time.perf_counter() - started
    estimate = small * (size / sample) ** 2
    print(
        f"baseline: nested loop {sample:,} x {sample:,}: {small:.2f} s  ->  "
        f"{size:,} x {size:,} extrapolated: {estimate / 3600:.1f} h"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--match-size", type=int, default=100_000)
    parser.add_argument("--skip-http", action="store_true", help="only the in-memory matching part")
    args = parser.parse_args()
    if not args.skip_http:
        await measure_over_http(args.records)
    measure_matching(args.match_size)


if __name__ == "__main__":
    asyncio.run(main())
