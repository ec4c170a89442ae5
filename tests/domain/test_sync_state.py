"""The one sync state rule of a coupled pair and its wording."""

from __future__ import annotations

import pytest

from bc_tui.domain.diff import ChangeBasis, RecordDiff
from bc_tui.domain.sync_state import SyncState, pair_sync_state


def _diff(bc: bool, dataverse: bool) -> RecordDiff:
    return RecordDiff((), bc, dataverse, ChangeBasis.SNAPSHOT, ChangeBasis.SNAPSHOT)


def test_remembered_state_wins_in_order() -> None:
    assert pair_sync_state(None, broken=True, skipped=True, failed=True) is SyncState.BROKEN
    assert pair_sync_state(None, skipped=True, conflict=True, failed=True) is SyncState.SKIPPED
    # A remembered conflict reads "conflict", as on the errors screen, even where the comparison
    # alone would say only "changed on both", and before a failure of the other direction.
    assert pair_sync_state(_diff(True, True), conflict=True, failed=True) is SyncState.CONFLICT
    assert pair_sync_state(None, failed=True, never_synced=True) is SyncState.FAILED
    assert pair_sync_state(None, never_synced=True) is SyncState.NOT_SYNCED


def test_comparison_decides_a_synchronized_pair() -> None:
    assert pair_sync_state(_diff(False, False)) is SyncState.SYNCED
    assert pair_sync_state(_diff(True, False)) is SyncState.CHANGED_IN_BC
    assert pair_sync_state(_diff(False, True)) is SyncState.CHANGED_IN_DATAVERSE
    assert pair_sync_state(_diff(True, True)) is SyncState.CHANGED_ON_BOTH
    with pytest.raises(ValueError):
        pair_sync_state(None)


def test_one_wording() -> None:
    assert [s.value for s in SyncState] == [
        "synced",
        "not synced yet",
        "changed in BC",
        "changed in Dataverse",
        "changed on both",
        "conflict",
        "skipped",
        "failed",
        "broken",
    ]
    assert {s for s in SyncState if s.needs_attention} == {SyncState.CONFLICT, SyncState.FAILED, SyncState.BROKEN}
