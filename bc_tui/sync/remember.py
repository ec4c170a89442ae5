"""What a coupling remembers of its synchronizations (docs/coupling-and-sync.md "What a coupling
remembers, and Skipped"): the times, ETags and snapshot of the last success, and failures.

Shared by carrying out synchronizations (``engine``), restoring deleted records (``restore``)
and previews, which read it back as the domain's :class:`~bc_tui.domain.diff.LastSync`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bc_tui.connectors.models import parse_datetime
from bc_tui.domain.diff import BC_MODIFIED, DATAVERSE_MODIFIED, LastSync, take_snapshot
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.skipped import FailureVerdict
from bc_tui.store.records import CouplingRecord, SyncResult, SyncResultUpdate
from bc_tui.store.sync_state import record_sync_result
from bc_tui.sync.records import ETAG, Record

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE


def last_sync(coupling: CouplingRecord | None) -> LastSync:
    """What the coupling remembers of the last synchronization, as the domain reads it."""
    if coupling is None:
        return LastSync()
    return LastSync(
        snapshot=coupling.snapshot or None,
        bc_etag=coupling.bc_etag,
        dataverse_etag=coupling.dataverse_etag,
        bc_modified_on=coupling.bc_modified_at,
        dataverse_modified_on=coupling.dataverse_modified_at,
        # A conflict is retried like a failure: the side it came from counts as modified.
        to_dataverse_failed=coupling.problem(SEND),
        from_dataverse_failed=coupling.problem(GET),
        skipped=coupling.skipped,
    )


def sync_state(mapping: TableMapping, bc: Record, dataverse: Record) -> dict[str, Any]:
    """The times, ETags and snapshot to store after a successful synchronization of a pair."""
    return {
        "bc_modified_at": parse_datetime(bc.get(BC_MODIFIED)),
        "bc_etag": bc.get(ETAG),
        "dataverse_modified_at": parse_datetime(dataverse.get(DATAVERSE_MODIFIED)),
        "dataverse_etag": dataverse.get(ETAG),
        "snapshot": take_snapshot(mapping, bc, dataverse),
    }


def success_updates(
    mapping: TableMapping,
    coupling: CouplingRecord,
    directions: Sequence[SyncDirection],
    job_id: int,
    bc: Record,
    dataverse: Record,
) -> list[SyncResultUpdate]:
    """What to store for a successful synchronization in each of ``directions`` (send and/or get)."""
    state = sync_state(mapping, bc, dataverse)
    return [
        SyncResultUpdate(coupling.id, direction, SyncResult.SUCCESS, job_id=job_id, **state) for direction in directions
    ]


def remember_failure(
    coupling: CouplingRecord,
    direction: SyncDirection,
    job_id: int,
    message: str,
    *,
    may_skip: bool,
    result: SyncResult = SyncResult.FAILURE,
) -> str:
    """Store a failed synchronization (``result``: a failure, or a conflict); returns the message
    to log (with the skip notice when it repeated and the coupling is now Skipped)."""
    directions = (SEND, GET) if direction is MERGE else (direction,)
    skipped = False
    for one in directions:
        updated = record_sync_result(
            SyncResultUpdate(coupling.id, one, result, job_id=job_id, error=message, may_skip=may_skip)
        )
        skipped = skipped or (updated.skipped and not coupling.skipped)
    return FailureVerdict(message, skipped).full_message
