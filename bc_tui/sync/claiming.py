"""One job per coupling at a time: synchronize only what this job has claimed (``store.claims``).

Two bc-tui processes (a cron job and the TUI, two CLI jobs) may reach the same couplings at
once. Before a chunk is planned and written, the job claims its couplings; what another running
job holds is left alone and claimed again once that job has moved on (it releases each chunk as
soon as its results are stored). A chunk never waits while holding claims of its own (a job
may handle two chunks at once, ``sync.pipeline``: the one holding claims is writing, and lets
them go when it is done), so two jobs cannot wait for each other. Whatever is still held after
:data:`CLAIM_WAIT_SECONDS` is skipped with a sentence naming the other job, and recorded as a
failed try so the next run retries it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from bc_tui.domain.names import sentence
from bc_tui.store import claims
from bc_tui.store.claims import Holder
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.progress import JobRun

#: How long a job waits for couplings another job is synchronizing before it skips them. The
#: other job holds a chunk only while it writes it (seconds); a longer hold means it is stuck.
CLAIM_WAIT_SECONDS = 30.0
#: How often a waiting job asks again.
CLAIM_POLL_SECONDS = 0.2


class Claimable(Protocol):
    """What the claim loop needs of a pair: its coupling (None: nothing to claim)."""

    coupling: CouplingRecord | None


P = TypeVar("P", bound=Claimable)


def busy_message(description: str, holder: Holder) -> str:
    """The sentence for a record skipped because another job was synchronizing it."""
    started = holder.started_at.strftime("%H:%M")
    return (
        f"{sentence(description)} was skipped: {holder.job_type} job {holder.job_id} (started {started} UTC) "
        "was synchronizing it at the same time; it will be synchronized in the next run."
    )


async def run_claimed(
    pairs: Sequence[P],
    run: JobRun,
    process: Callable[[list[P]], Awaitable[None]],
    skip: Callable[[P, Holder], Awaitable[None]],
) -> None:
    """Hand ``pairs`` to ``process`` in groups this job has claimed; ``skip`` the ones it never got.

    Pairs without a coupling need no claim. The first group keeps the order of ``pairs``; each
    group's claims are released as soon as ``process`` returns (or fails).
    """
    waiting = list(pairs)
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    holders: dict[int, Holder] = {}
    while waiting:
        outcome = await run.db(claims.claim, run.job_id, [p.coupling.id for p in waiting if p.coupling is not None])
        holders = outcome.held
        mine = [p for p in waiting if p.coupling is None or p.coupling.id in outcome.claimed]
        waiting = [p for p in waiting if p.coupling is not None and p.coupling.id not in outcome.claimed]
        if mine:
            try:
                await process(mine)
            finally:
                await run.db(claims.release, run.job_id, [p.coupling.id for p in mine if p.coupling is not None])
            continue  # ask again at once: the other job may be done with some by now
        # (A claim released between our upsert and our read has no holder: ask again.)
        if time.monotonic() >= deadline and all(p.coupling.id in holders for p in waiting if p.coupling):
            break
        _say_waiting(run, holders)
        await asyncio.sleep(CLAIM_POLL_SECONDS)
    for pair in waiting:
        assert pair.coupling is not None
        await skip(pair, holders[pair.coupling.id])


def _say_waiting(run: JobRun, holders: dict[int, Holder]) -> None:
    jobs = sorted({(h.job_type, h.job_id) for h in holders.values()}, key=lambda item: item[1])
    named = ", ".join(f"{job_type} job {job_id}" for job_type, job_id in jobs)
    count = len(holders)
    run.working_on(
        f"waiting for {named}, which is synchronizing {count} of these {'record' if count == 1 else 'records'}"
    )
