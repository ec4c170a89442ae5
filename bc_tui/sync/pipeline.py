"""Reading ahead: the reads of the next chunks overlap the planning and writing of this one.

A synchronization job goes chunk by chunk: read both records of a chunk's pairs, then plan,
write and store them. At a real service's latency each step is mostly waiting for answers, so
:func:`pipelined` starts the reads of up to :data:`DEPTH` chunks ahead, and plans the next
chunk while the writes of the one before are on their way (:data:`HANDLING` chunks at once).
Chunks are started in their order; each keeps its own claims (``claiming``), store transactions
and outcomes, so every record ends as in the chunk by chunk job (only the order in which two
neighbouring chunks' outcomes are logged may interleave). Each service's connector caps how
many requests are in flight at once, so reading ahead never pushes a service beyond its
concurrency limit: requests queue in the client instead. Memory holds at most
``DEPTH + HANDLING + 1`` chunks, whatever the size of the job (docs/coupling-and-sync.md
"Reading ahead").
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

#: Chunks planned, written and stored at once: the next chunk is planned while the writes of
#: the one before are on their way (each chunk's claims, store transactions and outcomes are
#: its own, and the chunks hold different records).
HANDLING = 2

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
    handling: int = HANDLING,
) -> None:
    """``await handle(await read(item))`` for every item, with up to ``depth`` reads running
    ahead and up to ``handling`` handles at once, each started in the order of the items.

    ``items`` may be an async iterable (pages read one after another): it is then read ahead
    too. A failed read (or a failed iteration) raises from the place its chunk would have been
    handled, after the chunks before it were started; a failure or cancellation stops every
    read and handle still running.
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
    running: set[asyncio.Future[None]] = set()
    reading: asyncio.Future[R] | None = None
    try:
        while (reading := await queue.get()) is not None:
            result = await _read(reading, running)
            await _room(running, max(1, handling) - 1)
            running.add(asyncio.ensure_future(handle(result)))
        await _room(running, 0)
    finally:
        producer.cancel()
        ahead: list[asyncio.Future[Any]] = [producer, *running, *([reading] if reading is not None else [])]
        for task in ahead[1:]:
            task.cancel()
        while not queue.empty():
            if (future := queue.get_nowait()) is not None:
                future.cancel()
                ahead.append(future)
        # Wait for them to stop, and retrieve their errors: nothing runs on after the job.
        await asyncio.gather(*ahead, return_exceptions=True)


async def _read(reading: asyncio.Future[R], running: set[asyncio.Future[None]]) -> R:
    """The chunk ``reading`` reads, unless one of the ``running`` handles fails first."""
    while not reading.done():
        either: set[asyncio.Future[Any]] = {reading, *running}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        _reap(running)
    if not reading.cancelled() and reading.exception() is not None:
        await _room(running, 0)  # the chunks before the failed read end as they would have
    return reading.result()


async def _room(running: set[asyncio.Future[None]], at_most: int) -> None:
    """Wait until at most ``at_most`` of ``running`` are left; raise the first failure among them."""
    _reap(running)
    while len(running) > at_most:
        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        _reap(running)


def _reap(running: set[asyncio.Future[None]]) -> None:
    """Forget the finished handles; a failed one fails the whole run."""
    for task in [t for t in running if t.done()]:
        running.discard(task)
        task.result()


async def _each(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterable[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
