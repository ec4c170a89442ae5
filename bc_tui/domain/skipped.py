"""The repeated-failure rule: when a failing record stops being retried (docs/coupling-and-sync.md
"What a coupling remembers, and Skipped", "Passing failures").

This module is the rule's only home: the coupling store asks :func:`should_skip` when it records a
failure, and the sync layer words the result with :class:`FailureVerdict`.
"""

from __future__ import annotations

from dataclasses import dataclass

REPEATED_FAILURE = "The record will be skipped for further synchronization due to a repeatable failure."


@dataclass(frozen=True)
class FailureVerdict:
    """What to record for a failed synchronization of one record in one direction."""

    message: str  # the failure itself; store this as the "previous failure" of the direction
    skip: bool  # mark the coupling Skipped

    @property
    def full_message(self) -> str:
        """The message to show and log: the failure, plus the skip notice when skipped."""
        return f"{self.message} {REPEATED_FAILURE}" if self.skip else self.message


def should_skip(message: str | None, previous_message: str | None, *, transient: bool) -> bool:
    """True when a failure marks the record Skipped.

    BC skips a record whose failure repeats the previous failure *in the same direction* word
    for word (the caller passes that direction's previous failure message, or None when the last
    synchronization in that direction did not fail). Whitespace around the message does not count:
    the same failure read back from a service or a database may gain or lose a trailing newline.
    A failure without a message repeats nothing. A transient failure (throttling, timeout, 5xx,
    dropped connection) never skips: it says nothing about the record.
    """
    if transient or message is None or previous_message is None:
        return False
    return previous_message.strip() == message.strip()
