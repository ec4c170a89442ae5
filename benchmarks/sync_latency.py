"""Synchronization at a real service's latency: the pipelined engine beside the chunk by chunk one.

Usage: ``python benchmarks/sync_latency.py [--records 10000] [--modified 5000] [--latency-ms 100]``

Over real HTTP, the sandbox in its own process on one data folder, restarted with the knobs of
each part (``--latency-ms``, ``--limits``):

1. Set-up at 0 ms: match-based coupling, one forced synchronization of ``--records`` couplings
   (their baseline) and one ``sync --modified`` (the watermarks).
2. At ``--latency-ms`` (then again with ``--limits``): ``--records`` coupled customers are
   changed in BC, and ``synchronize_many`` sends them to Dataverse. Printed: the wall time, the
   requests per service, the floor, the ratio of the two and the 429s received. The baseline
   is the same run with the engine's chunk by chunk mode (``sync.pipeline._CHUNK_BY_CHUNK``:
   read a chunk, then plan and write it, one write batch after another), on the same records.
3. ``sync --modified`` over ``--modified`` changed customers, at 0 ms and at ``--latency-ms``:
   the difference of the two times, pipelined and chunk by chunk.

The floor. A service answers at most ``cap`` requests at once (Business Central processes 5
per user, more are queued; Dataverse's cap is its ``x-ms-dop-hint``, which the client follows),
each after ``latency``; so the ``n`` requests a run made of a service take at least
``n × latency ÷ cap``. The two services work at the same time, so the run's critical path is the
busiest service, plus one round trip: the first writes must wait for the first reads (a record
is planned from both sides' reads), and nothing is read after the last read but that read's
writes. So::

    floor = max over services of (requests × latency ÷ cap)  +  latency

(the sum over services, the floor of an engine that never lets the two services overlap, is
printed beside it). The floor counts only the requests the run made, so it does not reward
fewer requests: that shows in the requests per record.

On a busy machine the sandbox answers far slower than ``latency`` (its CPU is shared), so the
same floor is printed with each service's measured mean answer time in place of the latency:
its ratio says how well the engine keeps each service's concurrency busy, whatever the machine.

Between runs the benchmark sets ``modified.OVERLAP`` to zero: with the 60 s overlap each
measured run would read the records of the run before it again (a cost of the overlap, not of
latency, and one that would differ between the runs compared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox_process

from bc_tui.config import profile_from_sandbox_info
from bc_tui.connectors.batch import BatchOperation
from bc_tui.connectors.models import BcCustomer
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.sync import modified, pipeline
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import SyncSession, open_session
from bc_tui.sync.synchronize import synchronize_many

SERVICES = {"/v2.0/": "BC", "/api/data/v9.2/": "Dataverse"}


@dataclass
class Counts:
    requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SERVICES.values(), 0))
    throttled: int = 0
    #: Seconds each service took to start answering, summed over its requests (latency included).
    answering: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SERVICES.values(), 0.0))

    def minus(self, before: Counts) -> Counts:
        return Counts(
            {s: n - before.requests[s] for s, n in self.requests.items()},
            self.throttled - before.throttled,
            {s: t - before.answering[s] for s, t in self.answering.items()},
        )


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the requests per service that go over the wire, and the 429s that come back."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=200))
        self.counts = Counts()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        service = next((s for prefix, s in SERVICES.items() if request.url.path.startswith(prefix)), None)
        if service is not None:
            self.counts.requests[service] += 1
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)  # until the answer's head
        if service is not None:
            self.counts.answering[service] += time.perf_counter() - started
        if response.status_code == 429:
            self.counts.throttled += 1
        return response

    def snapshot(self) -> Counts:
        return Counts(dict(self.counts.requests), self.counts.throttled, dict(self.counts.answering))

    async def aclose(self) -> None:
        await self.inner.aclose()


async def change_customers(session: SyncSession, ids: list[str], round_: int) -> None:
    """A colleague edits these customers in BC: a new phone number each (batches at once)."""
    wanted = set(ids)
    rows = {}
    async for page in session.bc.pages(BcCustomer, page_size=5000):
        rows.update({c.id.lower(): c for c in page if c.id.lower() in wanted})
    operations = [
        BatchOperation.update(BcCustomer, i, rows[i].etag, {"phoneNumber": f"+1 555 {round_:03d}{n:05d}"})
        for n, i in enumerate(ids)
    ]
    answers = await asyncio.gather(*(session.bc.batch(operations[s : s + 100]) for s in range(0, len(ids), 100)))
    failed = [r for batch in answers for r in batch if not r.ok]
    if failed:
        raise SystemExit(f"could not change the customers: {failed[0].error}")


def caps(session: SyncSession) -> dict[str, int]:
    return {"BC": session.bc.service.limiter.limit, "Dataverse": session.dataverse.service.limiter.limit}


def floors(counts: Counts, latency_s: float, cap: dict[str, int]) -> tuple[float, float, float]:
    """(the floor as the docstring defines it, the sum over services, the same floor with each
    service's measured mean answer time in place of the latency)."""
    per_service = [counts.requests[s] * latency_s / cap[s] for s in cap]
    answered = [counts.answering[s] / max(counts.requests[s], 1) for s in cap]
    measured = max(counts.answering[s] / cap[s] for s in cap) + max(answered)
    return max(per_service) + latency_s, sum(per_service), measured


def set_mode(pipelined: bool) -> str:
    pipeline._CHUNK_BY_CHUNK = not pipelined
    return "pipelined" if pipelined else "chunk by chunk (baseline)"


@dataclass
class Bench:
    data: Path
    db_url: str
    counter: CountingTransport
    customers: int
    round_: int = 0

    def session(self, info: dict[str, Any]) -> Any:
        return open_session(profile_from_sandbox_info(info), self.db_url, transport=self.counter)

    def sandbox(self, latency_ms: int, limits: bool = False) -> Any:
        extra = ["--latency-ms", str(latency_ms), *(["--limits"] if limits else [])]
        return sandbox_process(self.customers, self.data, *extra)

    async def change(self, session: SyncSession, ids: list[str]) -> None:
        self.round_ += 1
        await change_customers(session, ids, self.round_)


async def set_up(bench: Bench, records: int) -> list[str]:
    with bench.sandbox(0) as info:
        print(f"sandbox with {bench.customers:,} customers started in {info['startup_s']:.1f} s")
        async with bench.session(info) as session:
            matched = await match_based_coupling(session, "CUSTOMER")
            print(f"set-up: {matched.counters.get('coupled', 0):,} coupled by match-based coupling")
            ids = [c.bc_id for c in iter_couplings("CUSTOMER")][:records]
            if len(ids) < records:
                raise SystemExit(f"only {len(ids)} couplings; raise the sandbox size")
            await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE, whole_record=True)
            await modified.synchronize_modified(session, "CUSTOMER")
    return ids


async def sync_many_at(bench: Bench, ids: list[str], latency_ms: int, limits: bool) -> dict[bool, float]:
    knobs = f"--latency-ms {latency_ms}" + (" --limits" if limits else "")
    print(f"\nsynchronize_many, {len(ids):,} changed customers to Dataverse, sandbox {knobs}:")
    walls: dict[bool, float] = {}
    with bench.sandbox(latency_ms, limits) as info:
        async with bench.session(info) as session:
            for pipelined in (True, False):
                label = set_mode(pipelined)
                await bench.change(session, ids)
                before = bench.counter.snapshot()
                started, cpu = time.perf_counter(), time.process_time()
                summary = await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE)
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                walls[pipelined] = wall
                used = bench.counter.snapshot().minus(before)
                cap = caps(session)
                floor, summed, measured = floors(used, latency_ms / 1000, cap)
                requests = ", ".join(
                    f"{s} {n:,} (cap {cap[s]}, {used.answering[s] / max(n, 1) * 1000:.0f} ms each)"
                    for s, n in used.requests.items()
                )
                ratio = f"{wall / floor:5.2f}x" if latency_ms else "  -  "
                print(
                    f"  {label:<26} wall {wall:6.2f} s  floor {floor:5.2f} s  ratio {ratio}  "
                    f"(sum-of-services floor {summed:5.2f} s; at the measured answer times {measured:5.2f} s, "
                    f"ratio {wall / measured:4.2f}x)  429s {used.throttled}  "
                    f"{summary.counters.get('modified', 0):,} modified  requests: {requests}  "
                    f"client CPU {cpu:5.2f} s"
                )
    set_mode(True)
    return walls


async def modified_at(bench: Bench, ids: list[str], latency_ms: int) -> dict[bool, float]:
    times: dict[bool, float] = {}
    with bench.sandbox(latency_ms) as info:
        async with bench.session(info) as session:
            # Unmeasured: brings the watermarks past what the runs before this one changed.
            await modified.synchronize_modified(session, "CUSTOMER")
            for pipelined in (True, False):
                set_mode(pipelined)
                await bench.change(session, ids)
                started = time.perf_counter()
                summary = await modified.synchronize_modified(session, "CUSTOMER")
                times[pipelined] = time.perf_counter() - started
                if summary.counters.get("modified", 0) != len(ids):
                    raise SystemExit(f"sync --modified modified {summary.counters}, not {len(ids)} records")
    set_mode(True)
    return times


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--modified", type=int, default=5_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    modified.OVERLAP = timedelta(0)  # see the docstring
    with tempfile.TemporaryDirectory(prefix="bc-tui-latency-") as tmp:
        bench = Bench(Path(tmp) / "sandbox", f"sqlite:///{tmp}/coupling.sqlite", CountingTransport(), args.records * 2)
        (Path(tmp) / "sandbox").mkdir()
        ids = await set_up(bench, args.records)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (every figure below shares them)")
        zero = await sync_many_at(bench, ids, 0, limits=False)
        slow = await sync_many_at(bench, ids, args.latency_ms, limits=False)
        await sync_many_at(bench, ids, args.latency_ms, limits=True)
        print(
            f"  what {args.latency_ms} ms of latency added to synchronize_many (wall at {args.latency_ms} ms - at 0 ms):"
        )
        for pipelined in (True, False):
            print(f"    {set_mode(pipelined):<26} {slow[pipelined] - zero[pipelined]:6.2f} s")
        few = ids[: args.modified]
        print(f"\nsync --modified, {len(few):,} changed customers:")
        at_zero = await modified_at(bench, few, 0)
        at_latency = await modified_at(bench, few, args.latency_ms)
        for pipelined in (True, False):
            print(
                f"  {set_mode(pipelined):<26} 0 ms {at_zero[pipelined]:6.2f} s  {args.latency_ms} ms "
                f"{at_latency[pipelined]:6.2f} s  difference {at_latency[pipelined] - at_zero[pipelined]:6.2f} s"
            )
        set_mode(True)


if __name__ == "__main__":
    asyncio.run(main())
