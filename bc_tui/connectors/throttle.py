"""Per-service flow control: a resizable concurrency cap and a pause gate for 429s.

Business Central processes 5 requests per user at once and queues the rest; Dataverse suggests a
degree of parallelism in ``x-ms-dop-hint``. Both answer 429 with ``Retry-After`` when pushed too
hard, and keep pushing makes the wait longer: so one 429 pauses *every* request to that service,
not just the one that got it.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType


class ConcurrencyLimiter:
    """An ``asyncio.Semaphore`` whose size can change while requests are in flight.

    Shrinking never interrupts a request: new ones wait until enough have finished.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self._limit = limit
        self._active = 0
        self._waiters: list[asyncio.Future[None]] = []
        #: The highest number of requests seen in flight at once (diagnostics, tests).
        self.peak = 0

    @property
    def limit(self) -> int:
        """How many requests may be in flight at once."""
        return self._limit

    @property
    def active(self) -> int:
        """How many requests are in flight now."""
        return self._active

    def resize(self, limit: int) -> None:
        """Change the cap (at least 1); waiters are woken when it grows."""
        self._limit = max(1, limit)
        self._wake()

    async def acquire(self) -> None:
        """Wait for a free slot and take it."""
        while self._active >= self._limit:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._active += 1
        self.peak = max(self.peak, self._active)

    def release(self) -> None:
        """Give a slot back."""
        self._active -= 1
        self._wake()

    def _wake(self) -> None:
        # Every waiter re-checks the cap, so waking them all is correct; there are only a few.
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class PauseGate:
    """Holds every request to a service while a ``Retry-After`` pause is running.

    ``pause(s)`` extends (never shortens) the pause; ``wait()`` returns at once when open.
    """

    def __init__(self, *, max_pause_s: float = 300.0) -> None:
        self._resume_at = 0.0
        self._max_pause_s = max_pause_s
        #: How many times a pause was started or extended (diagnostics, tests).
        self.pauses = 0
        #: How many times a request actually waited at the closed gate.
        self.waits = 0

    def pause(self, seconds: float) -> None:
        """Hold all requests for ``seconds`` from now (bounded by ``max_pause_s``)."""
        seconds = min(max(seconds, 0.0), self._max_pause_s)
        resume_at = time.monotonic() + seconds
        if resume_at > self._resume_at:
            self._resume_at = resume_at
            self.pauses += 1

    async def wait(self) -> None:
        """Return when the gate is open (at once if it is)."""
        waited = False
        while (remaining := self._resume_at - time.monotonic()) > 0:
            waited = True
            await asyncio.sleep(remaining)
        if waited:
            self.waits += 1
