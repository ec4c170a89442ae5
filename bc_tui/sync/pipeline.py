"""Reading ahead: the reads of the next chunks overlap the planning and writing of this one.

A synchronization job goes chunk by chunk: read both records of a chunk's pairs, then plan,
write and store them. At a real service's latency each step is mostly waiting for answers, so
:func:`pipelined` starts the reads of up to :data:`DEPTH` chunks ahead while the current chunk
is handled. The chunks are still handled one at a time and in their order, so progress, the
order of the job's per-record outcomes and the claims (``claiming``) are those of the chunk by
chunk job; only the waiting overlaps. Each service's connector caps how many requests are in
flight at once, so reading ahead never pushes a service beyond its concurrency limit: requests
queue in the client instead. Memory holds at most ``DEPTH + 1`` chunks read ahead, whatever the
size of the job (docs/coupling-and-sync.md "Reading ahead").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Chunks whose reads may run ahead of the chunk being handled. A chunk's reads are a few
#: requests per service (200 records: 4 filtered reads of each side), so four chunks ahead keep
#: both services' concurrency caps (5 and Dataverse's hint, 4 in the sandbox) busy while a chunk
#: is written, and hold at most 1,000 pairs in memory.
DEPTH = 4

#: Private switch for benchmarks/sync_latency.py: True brings back the chunk by chunk job
#: (read, then plan and write, then the next chunk), the baseline it prints. Never set it in
#: production code.
_CHUNK_BY_CHUNK = False


def chunk_by_chunk() -> bool:
    """True when the benchmark's baseline switch is on: no reading ahead, one batch at a time."""
    return _CHUNK_BY_CHUNK


async def pipelined(
    items: Iterable[T] | AsyncIterable[T],
    read: Callable[[T], Awaitable[R]],
    handle: Callable[[R], Awaitable[None]],
    *,
    depth: int = DEPTH,
) -> None:
    """``await handle(await read(item))`` for every item, in order, with up to ``depth`` reads
    running ahead of the ``handle`` in progress.

    ``items`` may be an async iterable (pages read one after another): it is then read ahead
    too. A failed read (or a failed iteration) raises from the place its chunk would have been
    handled, after the chunks before it; a failure or cancellation stops every read still running.
    """
    if _CHUNK_BY_CHUNK or depth < 1:
        async for item in _each(items):
            await handle(await read(item))
        return
    queue: asyncio.Queue[asyncio.Future[R] | None] = asyncio.Queue(maxsize=depth)

    async def produce() -> None:
        try:
            async for item in _each(items):
                reading = asyncio.ensure_future(read(item))
                try:
                    await queue.put(reading)
                except asyncio.CancelledError:
                    reading.cancel()
                    raise
        except Exception as error:  # noqa: BLE001 -- handed on in order, raised by the consumer below
            failed: asyncio.Future[R] = asyncio.get_running_loop().create_future()
            failed.set_exception(error)
            await queue.put(failed)
            return
        await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (reading := await queue.get()) is not None:
            await handle(await reading)
    finally:
        producer.cancel()
        ahead: list[asyncio.Future[Any]] = [producer]
        while not queue.empty():
            if (future := queue.get_nowait()) is not None:
                future.cancel()
                ahead.append(future)
        # Wait for them to stop, and retrieve their errors: nothing runs on after the job.
        await asyncio.gather(*ahead, return_exceptions=True)


async def _each(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterable[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
