"""The repeated-failure rule: when a failing record stops being retried (docs/coupling-and-sync.md "What a coupling remembers, and Skipped", "Passing failures")."""

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


def judge_failure(message: str, previous_message: str | None, *, transient: bool) -> FailureVerdict:
    """Decide whether a failure marks the record Skipped.

    BC skips a record whose failure repeats the previous failure *in the same direction* word
    for word (the caller passes that direction's previous message). A transient failure
    (throttling, timeout, 5xx, dropped connection) never skips: it says nothing about the record.
    """
    repeated = previous_message is not None and previous_message.strip() == message.strip()
    return FailureVerdict(message=message, skip=repeated and not transient)
