"""Reading ahead (docs/coupling-and-sync.md "Reading ahead"): the reads of the next chunks overlap
the handling of this one, handles start in order, memory is bounded by the depth, and each
record of a job over several chunks ends exactly as in the chunk by chunk job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.outcomes import Outcome
from bc_tui.sync import synchronize
from bc_tui.sync.pipeline import pipelined
from bc_tui.sync.session import SyncSession
from bc_tui.sync.synchronize import synchronize_many
from tests.sync.coupled_pairs import MAPPING, account_row, coupled_customers, edit_account, edit_bc


async def test_chunks_are_handled_in_order_with_at_most_depth_reads_ahead() -> None:
    started: list[int] = []
    handled: list[int] = []
    ahead: list[int] = []

    async def read(item: int) -> int:
        started.append(item)
        await asyncio.sleep(0)
        return item * 10

    async def handle(value: int) -> None:
        for _ in range(20):  # the reader gets every chance to run ahead
            await asyncio.sleep(0)
        ahead.append(len(started) - len(handled) - 1)
        handled.append(value // 10)

    await pipelined(range(12), read, handle, depth=3, handling=2)

    assert sorted(handled) == list(range(12))
    assert handled[:2] == [0, 1]
    # Reads ran ahead of the chunks being handled, never more than the two handled, the queue
    # (3) and the one waiting for room in it.
    assert max(ahead) == 6
    assert min(ahead[:6]) >= 1


async def test_handles_start_in_order_and_at_most_handling_at_once() -> None:
    started: list[int] = []
    at_once: list[int] = []
    running = 0

    async def read(item: int) -> int:
        return item

    async def handle(item: int) -> None:
        nonlocal running
        started.append(item)
        running += 1
        at_once.append(running)
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1

    await pipelined(range(9), read, handle, depth=2, handling=2)

    assert started == list(range(9))
    assert max(at_once) == 2


async def test_async_items_are_read_ahead_too() -> None:
    pages_read: list[int] = []
    seen_when_handling: list[int] = []

    async def pages() -> AsyncIterator[int]:
        for page in range(5):
            pages_read.append(page)
            await asyncio.sleep(0)
            yield page

    async def read(page: int) -> int:
        return page

    async def handle(page: int) -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        seen_when_handling.append(len(pages_read))

    await pipelined(pages(), read, handle, depth=2)

    assert seen_when_handling[0] > 1  # the next pages were read while the first was handled
    assert pages_read == [0, 1, 2, 3, 4]


async def test_a_failed_read_raises_after_the_chunks_before_it_and_stops_the_rest() -> None:
    handled: list[int] = []
    cancelled: list[int] = []
    release = asyncio.Event()

    async def read(item: int) -> int:
        if item == 2:
            raise ValueError("the service refused chunk 2")
        if item > 2:
            try:
                await release.wait()  # never set: only cancellation ends these reads
            except asyncio.CancelledError:
                cancelled.append(item)
                raise
        return item

    async def handle(item: int) -> None:
        handled.append(item)

    with pytest.raises(ValueError, match="chunk 2"):
        await pipelined(range(6), read, handle, depth=3)

    assert handled == [0, 1]
    assert cancelled  # the reads ahead of the failure were stopped, not left running
    assert all(item > 2 for item in cancelled)


async def test_a_failed_handle_stops_the_reads_ahead() -> None:
    waiting: list[asyncio.Task[object]] = []

    async def read(item: int) -> int:
        if item > 0:
            task = asyncio.current_task()
            assert task is not None
            waiting.append(task)
            await asyncio.Event().wait()  # never set: only cancellation ends these reads
        return item

    async def handle(item: int) -> None:
        raise RuntimeError("the store failed")

    with pytest.raises(RuntimeError, match="store failed"):
        await pipelined(range(10), read, handle, depth=2)

    assert waiting
    assert all(task.cancelled() for task in waiting)


async def test_a_job_over_several_chunks_ends_each_record_as_chunk_by_chunk(
    session: SyncSession, sandbox_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synchronize, "CHUNK", 3)  # 11 records: four chunks, read ahead
    pairs = await coupled_customers(session, sandbox_app, 11)
    ids = [p.bc_id for p in pairs]
    for n, pair in enumerate(pairs):
        if n % 3 == 0:
            edit_bc(sandbox_app, pair.bc_id, phoneNumber=f"+1 555 01{n:02d}")
        if n == 4:  # changed on both sides: a conflict
            edit_bc(sandbox_app, pair.bc_id, city="Bree")
            edit_account(sandbox_app, pair.dataverse_id, address1_city="Michel Delving")

    summary = await synchronize_many(session, MAPPING, ids, SyncDirection.TO_DATAVERSE)

    # Every record once (two chunks are handled at once, so their outcomes may interleave),
    # each with the outcome the chunk by chunk job gave it.
    recorded = [r.bc_id for r in summary.results]
    assert sorted(recorded) == sorted(ids)
    for n, bc_id in enumerate(ids):
        result = summary.result_for(bc_id)
        assert result is not None
        expected = Outcome.CONFLICT if n == 4 else Outcome.MODIFIED if n % 3 == 0 else Outcome.UNCHANGED
        assert result.outcome is expected, (n, result)
    for n, pair in enumerate(pairs):
        if n % 3 == 0:
            assert account_row(sandbox_app, pair.dataverse_id)["telephone1"] == f"+1 555 01{n:02d}"
    assert account_row(sandbox_app, pairs[4].dataverse_id)["address1_city"] == "Michel Delving"
