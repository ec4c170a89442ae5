"""What happened to one record in a synchronization or coupling job (the job log counters)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """One record's result; each value is one counter of the synchronization job.

    See docs/coupling-and-sync.md "The synchronization log and its errors".
    """

    INSERTED = "inserted"
    MODIFIED = "modified"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    CONFLICT = "conflict"  # BC counts it with the failures; bc-tui keeps it apart (see "A conflict's state")
    COUPLED = "coupled"
    UNCOUPLED = "uncoupled"
    DELETED = "deleted"
    UNMATCHED = "unmatched"  # match-based coupling found no unique uncoupled match: not a failure
