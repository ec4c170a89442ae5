"""The sync state of a coupling and its two records now, by the one domain rule
(``domain/sync_state.py``): what the lists, the card's preview and the CLI show."""

from __future__ import annotations

from bc_tui.domain.diff import diff_records
from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.sync_state import SyncState, pair_sync_state
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.records import Record
from bc_tui.sync.remember import last_sync


def coupled_pair_state(
    mapping: TableMapping, coupling: CouplingRecord, bc: Record | None, dataverse: Record | None
) -> SyncState:
    """The sync state of ``coupling`` given both records as read now (None, or a BC record
    marked ``_missing``, when it was deleted)."""
    present = bc is not None and not bc.get("_missing") and dataverse is not None
    never_synced = not coupling.snapshot and not coupling.bc_etag and not coupling.dataverse_etag
    diff = None
    if (
        bc is not None
        and dataverse is not None
        and present
        and not (coupling.broken or coupling.skipped or coupling.conflict or coupling.failed or never_synced)
    ):  # compared only when the remembered state does not decide (the comparison costs)
        diff = diff_records(mapping, bc, dataverse, last_sync(coupling))
    return pair_sync_state(
        diff,
        broken=coupling.broken or not present,
        skipped=coupling.skipped,
        conflict=coupling.conflict,
        failed=coupling.failed,
        never_synced=never_synced,
    )


__all__ = ["coupled_pair_state"]
