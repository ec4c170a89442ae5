"""How hard one call to a service is tried: the retry policy, and which failed attempts may be
retried and may have committed (see :mod:`bc_tui.connectors.odata` "Retries and idempotency").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, stop_after_delay, wait_random_exponential

from .errors import ConnectionLost, ConnectorError, ServiceError, Throttled, Unreachable

#: Statuses after which the request certainly was not processed.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
#: Statuses after which a write may or may not have committed.
UNKNOWN_OUTCOME_STATUSES = frozenset({408, 502, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one call."""

    #: Attempts in all (the first one included).
    max_attempts: int = 8
    #: Give up after this long, however many attempts are left.
    max_total_s: float = 120.0
    #: Backoff is random between 0 and initial * 2**attempt, capped at ``max_backoff_s``.
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 16.0
    #: Attempts when the host refuses connections: a wrong URL should fail fast.
    connect_attempts: int = 3
    #: Pause used after a 429 that gave no ``Retry-After``.
    default_retry_after_s: float = 2.0


@dataclass
class AttemptState:
    """What an attempt function knows about the attempts before it."""

    number: int = 0
    #: True once an earlier attempt of this write may have committed.
    maybe_committed: bool = False


def classify(exc: BaseException) -> Literal["not_processed", "unknown"] | None:
    """Whether a failed attempt may be retried, and whether it may have committed."""
    if isinstance(exc, ConnectionLost):
        return "unknown"
    if isinstance(exc, (Throttled, Unreachable)):
        return "not_processed"
    if isinstance(exc, ServiceError) and exc.status in NOT_PROCESSED_STATUSES:
        return "not_processed"
    if isinstance(exc, ServiceError) and exc.status in UNKNOWN_OUTCOME_STATUSES:
        return "unknown"
    return None


def retrying_for(
    policy: RetryPolicy, state: AttemptState, *, idempotent: bool, on_retry: Callable[[], None]
) -> AsyncRetrying:
    """tenacity's loop for one call under ``policy``.

    Not-processed failures are always retried (a refused connection only ``connect_attempts``
    times); unknown-outcome failures only when ``idempotent``, and they set
    ``state.maybe_committed``. A 429 waits no backoff of its own: the pause gate holds every
    request for its Retry-After. ``on_retry`` is called before each new attempt.
    """

    def should_retry(retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if not isinstance(exc, ConnectorError):
            return False
        kind = classify(exc)
        if kind == "unknown":
            state.maybe_committed = True
            return idempotent
        if kind == "not_processed":
            return not (type(exc) is Unreachable and retry_state.attempt_number >= policy.connect_attempts)
        return False

    backoff = wait_random_exponential(multiplier=policy.initial_backoff_s, max=policy.max_backoff_s)

    def wait(retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, Throttled):
            return 0.0
        return float(backoff(retry_state))

    return AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_total_s),
        wait=wait,
        retry=should_retry,
        before_sleep=lambda _: on_retry(),
        reraise=True,
    )
