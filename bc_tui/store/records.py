"""The plain values the coupling store hands out: couplings, create intents and the sync-state
updates callers pass in (docs/coupling-and-sync.md "What a coupling remembers, and Skipped").

Nothing here touches the database, so every store module (and the store's errors, which carry
the coupling in the way) can use these types without importing the code that reads and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bc_tui.domain.mappings import SyncDirection


class Side(StrEnum):
    """One side of a coupling."""

    BC = "bc"
    DATAVERSE = "dataverse"


class SyncResult(StrEnum):
    """The outcome of the last synchronization of a coupling in one direction.

    A conflict is kept apart from a failure: both records changed, and only the user's choice
    of a winner settles it (docs/coupling-and-sync.md "A conflict's state").
    """

    SUCCESS = "success"
    FAILURE = "failure"
    CONFLICT = "conflict"

    @property
    def unsettled(self) -> bool:
        """True for a failure or a conflict: the direction is tried again by the next run."""
        return self is not SyncResult.SUCCESS


@dataclass(frozen=True)
class CouplingRecord:
    """One coupling and its synchronization state, detached from the database."""

    id: int
    mapping: str
    bc_id: str
    dataverse_id: str
    bc_number: str | None = None
    display_name: str | None = None
    bc_modified_at: datetime | None = None
    bc_etag: str | None = None
    dataverse_modified_at: datetime | None = None
    dataverse_etag: str | None = None
    to_dataverse_result: SyncResult | None = None
    to_dataverse_job_id: int | None = None
    to_dataverse_error: str | None = None
    to_dataverse_at: datetime | None = None
    from_dataverse_result: SyncResult | None = None
    from_dataverse_job_id: int | None = None
    from_dataverse_error: str | None = None
    from_dataverse_at: datetime | None = None
    skipped: bool = False
    deleted_side: Side | None = None
    snapshot: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def last_result(self, direction: SyncDirection) -> SyncResult | None:
        """The result of the last synchronization in ``direction`` (send or get)."""
        # direction_prefix refuses merge, which keeps no result of its own.
        if direction_prefix(direction) == "to_dataverse":
            return self.to_dataverse_result
        return self.from_dataverse_result

    @property
    def failed(self) -> bool:
        """True when the last synchronization in either direction failed (a conflict is not a failure)."""
        return SyncResult.FAILURE in (self.to_dataverse_result, self.from_dataverse_result)

    @property
    def conflict(self) -> bool:
        """True when the last synchronization in either direction found a conflict still unsettled."""
        return SyncResult.CONFLICT in (self.to_dataverse_result, self.from_dataverse_result)

    def problem(self, direction: SyncDirection) -> bool:
        """True when the last synchronization in ``direction`` failed or found a conflict."""
        result = self.last_result(direction)
        return result is not None and result.unsettled

    @property
    def broken(self) -> bool:
        """True when one of the coupled records has been deleted.

        See docs/coupling-and-sync.md "Deleted records and broken couplings".
        """
        return self.deleted_side is not None


@dataclass(frozen=True)
class CreateIntentRecord:
    """A counterpart creation that was started: reuse ``planned_id`` when running it again, and
    look for what ``body`` made since ``begun_at`` where nothing was planned."""

    id: int
    mapping: str
    source_side: Side
    source_id: str
    planned_id: str  # the Dataverse GUID planned; empty for BC (its number series numbers it)
    destination_id: str | None
    state: str  # "pending": maybe not created yet; "created": exists as destination_id
    job_id: int | None
    created_at: datetime
    #: The values the create sends, and when it was begun (the service's clock when known;
    #: None from a bc-tui older than schema 5).
    body: dict[str, Any] | None = None
    begun_at: datetime | None = None


@dataclass(frozen=True)
class SyncResultUpdate:
    """One synchronization result to store with :func:`bc_tui.store.sync_state.record_sync_result`
    (or many with ``record_sync_results``); the rules are told there."""

    coupling_id: int
    direction: SyncDirection
    result: SyncResult
    job_id: int | None = None
    error: str | None = None
    bc_modified_at: datetime | None = None
    bc_etag: str | None = None
    dataverse_modified_at: datetime | None = None
    dataverse_etag: str | None = None
    snapshot: dict[str, dict[str, Any]] | None = None
    may_skip: bool = True


@dataclass(frozen=True)
class SyncStateRefresh:
    """Times, ETags and snapshot of an *unchanged* coupling, for :func:`bc_tui.store.sync_state.refresh_sync_states`."""

    coupling_id: int
    bc_modified_at: datetime | None = None
    bc_etag: str | None = None
    dataverse_modified_at: datetime | None = None
    dataverse_etag: str | None = None
    snapshot: dict[str, dict[str, Any]] | None = None


def normalize_id(value: str) -> str:
    """A GUID as stored: lower case, no braces or surrounding blanks."""
    return value.strip().strip("{}").lower()


def direction_prefix(direction: SyncDirection) -> str:
    """The column prefix of the sync state kept for ``direction``: ``to_dataverse`` or ``from_dataverse``.

    Raises ValueError for merge: a sync result is kept per direction.
    """
    direction = SyncDirection(direction)
    if direction is SyncDirection.MERGE:
        raise ValueError("a sync result is recorded per direction: to-dataverse or from-dataverse, not merge")
    return "to_dataverse" if direction is SyncDirection.TO_DATAVERSE else "from_dataverse"
