"""Per-service flow control: a resizable concurrency cap, a request pacer and a pause gate for 429s.

Business Central processes 5 requests per user at once and queues the rest; Dataverse suggests a
degree of parallelism in ``x-ms-dop-hint``. Both allow 6,000 requests per user in a sliding
5-minute window (docs/service-limits.md): the request pacer keeps the client below it, so that a
long job is slowed rather than refused. Both answer 429 with ``Retry-After`` when pushed too
hard, and keep pushing makes the wait longer: so one 429 pauses *every* request to that service,
not just the one that got it; the 429s of the requests already in flight then belong to the same
pause and do not lengthen it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class RequestWindow:
    """A service's request limit: at most ``requests`` per user in any sliding ``seconds``."""

    requests: int
    seconds: float

    def __post_init__(self) -> None:
        if self.requests < 1 or self.seconds <= 0:
            raise ValueError("a request window needs at least one request and a positive length")


#: Business Central and Dataverse both: 6,000 requests per user per sliding 5 minutes
#: (docs/service-limits.md, "The documented limits").
DOCUMENTED_WINDOW = RequestWindow(6000, 300.0)


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


class RequestPacer:
    """Paces requests so that no sliding window of the service sees more than its limit.

    It keeps the times of the requests sent in the last window and lets one more go only while
    they are fewer than the limit less a margin (a twentieth, at least one); otherwise it waits
    until the oldest leaves the window. So a job may use the whole window at once, as the
    service allows, and then goes on at the pace the window frees up, never faster. The margin
    absorbs the difference between when we send and when the service counts
    (docs/service-limits.md, "Pacing"). Waiters are served in order (one lock).
    """

    def __init__(self, window: RequestWindow, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        #: Requests allowed in any window: the limit less the margin.
        self.allowed = max(1, window.requests - max(1, window.requests // 20))
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        #: How many requests waited for their turn (diagnostics, tests).
        self.waits = 0

    async def take(self) -> None:
        """Wait until one more request fits in the window, and count it as sent now."""
        async with self._lock:
            sent, seconds = self._sent, self.window.seconds
            now = self._clock()
            waited = False
            while True:
                while sent and sent[0] <= now - seconds:
                    sent.popleft()
                if len(sent) < self.allowed:
                    break
                waited = True
                await asyncio.sleep(sent[0] + seconds - now)
                now = self._clock()
            self.waits += waited
            sent.append(now)


class PauseGate:
    """Holds every request to a service while a ``Retry-After`` pause is running.

    A 429 to a request sent after the last pause began starts a new pause of its Retry-After.
    A 429 to a request sent *before* it began is part of the same burst (it was in flight when
    the first one came back): it never adds its own Retry-After on top, at most it moves the end
    to that many seconds after the burst began. So a burst costs one Retry-After, not one per
    429. ``wait()`` returns at once when the gate is open.
    """

    def __init__(self, *, max_pause_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._resume_at = 0.0
        self._began_at = float("-inf")
        self._max_pause_s = max_pause_s
        self._clock = clock
        #: How many pauses were started: one per burst of 429s (diagnostics, tests).
        self.pauses = 0
        #: How many 429s were reported to the gate.
        self.throttled = 0
        #: How many times a request actually waited at the closed gate.
        self.waits = 0

    def pause(self, seconds: float, *, sent_at: float | None = None) -> None:
        """Hold all requests for ``seconds`` (bounded by ``max_pause_s``) after a 429.

        ``sent_at`` (the clock when the throttled request went out) tells a new burst from a
        429 of the one under way; without it, every 429 is a new burst.
        """
        seconds = min(max(seconds, 0.0), self._max_pause_s)
        self.throttled += 1
        if sent_at is not None and sent_at < self._began_at:
            self._resume_at = max(self._resume_at, self._began_at + seconds)
            return
        now = self._clock()
        self._began_at = now
        self._resume_at = max(self._resume_at, now + seconds)
        self.pauses += 1

    @property
    def clock(self) -> float:
        """The gate's clock now (what ``sent_at`` is measured with)."""
        return self._clock()

    async def wait(self) -> None:
        """Return when the gate is open (at once if it is)."""
        waited = False
        while (remaining := self._resume_at - self._clock()) > 0:
            waited = True
            await asyncio.sleep(remaining)
        if waited:
            self.waits += 1
