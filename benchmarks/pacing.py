"""Pacing and 429 recovery: synchronizing 10,000 changed coupled customers under the services' limits.

Usage: ``python benchmarks/pacing.py [--records 10000] [--throttle 0.1]``

Three sandboxes in their own processes, one after the other, on the same data folder (the
sandbox keeps its data there, so the couplings made in the first stay valid in the others):

1. clean: match-based coupling, one forced synchronization (the baseline of every coupling),
   then the measured run: ``--records`` customers changed in BC, ``synchronize_many`` to Dataverse;
2. ``--limits`` (the documented 6,000 requests per 5 minutes per user, the concurrency caps):
   the same run; it prints the 429s the client received (target 0: the client paces itself);
3. ``--faults 429=<throttle>``: the same run with that share of requests answered 429 with
   ``Retry-After: 1``; it prints the 429s, the pauses they started (one per burst of 429s), and
   the run's time against the clean run's.

Why the faulted run costs what it costs: every pause holds every request to that service for
its Retry-After, so its floor is the clean time plus ``pauses x Retry-After``; the script prints
that floor beside the measured time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import sandbox_process
from sync_throughput import change_customers

from bc_tui.config import profile_from_sandbox_info
from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.sync.match import match_based_coupling
from bc_tui.sync.session import open_session
from bc_tui.sync.synchronize import synchronize_many

#: The Retry-After (seconds) of the sandbox's injected 429s.
INJECTED_RETRY_AFTER_S = 1.0


class StatusCounter(httpx.AsyncBaseTransport):
    """Counts the HTTP requests that go over the wire, and the 429s that come back."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0
        self.throttled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.throttled += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def _pauses(session: Any) -> int:
    return int(session.bc.service.gate.pauses + session.dataverse.service.gate.pauses)


async def _run(info: dict[str, Any], db: str, round_: int, ids: list[str]) -> tuple[float, int, int, int]:
    """Change the customers in BC, then time one synchronization; (seconds, requests, 429s, pauses)."""
    counter = StatusCounter()
    async with open_session(profile_from_sandbox_info(info), db, transport=counter) as session:
        await change_customers(session, ids, round_)
        before = (counter.requests, counter.throttled, _pauses(session))
        started = time.perf_counter()
        summary = await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE)
        seconds = time.perf_counter() - started
        modified = summary.counters.get("modified", 0)
        if modified != len(ids):
            raise SystemExit(f"only {modified:,} of {len(ids):,} records were synchronized: {summary.counters}")
        return (
            seconds,
            counter.requests - before[0],
            counter.throttled - before[1],
            _pauses(session) - before[2],
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--throttle", type=float, default=0.1, help="share of requests answered 429")
    args = parser.parse_args()
    customers = int(args.records * 1.8)  # about 60 % of demo customers have a same-named account
    with tempfile.TemporaryDirectory(prefix="bc-tui-pacing-") as tmp:
        data = Path(tmp) / "sandbox"
        db = f"sqlite:///{tmp}/coupling.sqlite"
        with sandbox_process(customers, data) as info:
            async with open_session(profile_from_sandbox_info(info), db) as session:
                await match_based_coupling(session, "CUSTOMER")
                ids = [c.bc_id for c in iter_couplings("CUSTOMER")][: args.records]
                if len(ids) < args.records:
                    raise SystemExit(f"only {len(ids)} couplings; raise the sandbox size")
                await synchronize_many(session, "CUSTOMER", ids, SyncDirection.TO_DATAVERSE, whole_record=True)
            clean = await _run(info, db, 1, ids)
        with sandbox_process(customers, data, "--limits") as info:
            limited = await _run(info, db, 2, ids)
        with sandbox_process(customers, data, "--faults", f"429={args.throttle},seed=7") as info:
            faulted = await _run(info, db, 3, ids)

    n = f"{len(ids):,} records"
    print(f"clean run:              {n}  {clean[0]:7.2f} s  {clean[1]:>6,} requests  {clean[2]:>4} 429s")
    print(
        f"--limits (6,000 / 5 min): {n}  {limited[0]:7.2f} s  {limited[1]:>6,} requests  "
        f"{limited[2]:>4} 429s received (target 0)"
    )
    floor = clean[0] + faulted[3] * INJECTED_RETRY_AFTER_S
    print(
        f"{args.throttle:.0%} injected 429s:      {n}  {faulted[0]:7.2f} s  {faulted[1]:>6,} requests  "
        f"{faulted[2]:>4} 429s, {faulted[3]} pauses of {INJECTED_RETRY_AFTER_S:g} s"
    )
    print(
        f"cost of the 429s: {faulted[0] / clean[0]:.1f}x the clean run; floor (clean + pauses x Retry-After) "
        f"{floor:.2f} s, measured / floor {faulted[0] / floor:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
