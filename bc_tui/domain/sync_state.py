"""The sync state of a coupled pair: one rule and one wording for the lists, the card, the
preview and the CLI (docs/coupling-and-sync.md "What a coupling remembers, and Skipped").

The state is decided from what the coupling remembers (broken, skipped, a conflict, failed,
never synchronized) and, for a pair synchronized before, from the three-way comparison of both
records now (:class:`~bc_tui.domain.diff.RecordDiff`). Its value is the one wording shown
everywhere ("changed in BC", "not synced yet" …).
"""

from __future__ import annotations

from enum import StrEnum

from bc_tui.domain.diff import FieldState, RecordDiff


class SyncState(StrEnum):
    """What the sync state of a coupled pair is; the value is the words shown for it."""

    SYNCED = "synced"
    NOT_SYNCED = "not synced yet"
    CHANGED_IN_BC = "changed in BC"
    CHANGED_IN_DATAVERSE = "changed in Dataverse"
    CHANGED_ON_BOTH = "changed on both"
    CONFLICT = "conflict"
    SKIPPED = "skipped"
    FAILED = "failed"
    BROKEN = "broken"

    @property
    def needs_attention(self) -> bool:
        """True for the states a user must act on (a conflict, a failure, a broken coupling)."""
        return self in (SyncState.CONFLICT, SyncState.FAILED, SyncState.BROKEN)


STATE_HELP: dict[SyncState, str] = {
    SyncState.SYNCED: "Both records still hold what the last synchronization left in them.",
    SyncState.NOT_SYNCED: (
        "Coupled, never synchronized: nothing says which side changed what, so the fields that "
        "differ are only different; the first synchronization takes the side you choose."
    ),
    SyncState.CHANGED_IN_BC: "The Business Central record changed since the last synchronization.",
    SyncState.CHANGED_IN_DATAVERSE: "The Dataverse record changed since the last synchronization.",
    SyncState.CHANGED_ON_BOTH: (
        "Both records changed since the last synchronization, but no field to two different values: "
        "each change can flow to the other side."
    ),
    SyncState.CONFLICT: (
        "Both records changed a field to different values, or a synchronization found so and none "
        "settled it since: pick the side that wins, field by field."
    ),
    SyncState.SKIPPED: (
        "The same failure happened twice in a row, so synchronizations leave the pair out until "
        "it is retried on the errors screen."
    ),
    SyncState.FAILED: "The last synchronization of the pair failed; the next one retries it.",
    SyncState.BROKEN: (
        "One of the two coupled records was deleted: restore it, delete the survivor or delete "
        "the coupling on the errors screen."
    ),
}
"""What each state of a coupled pair means, in one or two sentences: the help screen's legend
and the tooltips of the state on the lists and the card."""

#: The lists' word for a record outside its table mapping's table filter (no state of a pair).
OUTSIDE_FILTER = "outside filter"
OUTSIDE_FILTER_HELP = (
    "The record is outside the table filter of its table mapping (for example blocked): "
    "it is not coupled or synchronized."
)


def state_legend() -> list[tuple[str, str]]:
    """Every word the lists and the card show for a pair's state, with what it means, in
    :class:`SyncState` order, then "outside filter"."""
    return [(state.value, STATE_HELP[state]) for state in SyncState] + [(OUTSIDE_FILTER, OUTSIDE_FILTER_HELP)]


def state_help(words: str) -> str | None:
    """What the state shown as ``words`` ("not synced yet", "outside filter" …) means; None for
    words that are no state (an empty cell)."""
    return dict(state_legend()).get(words.strip())


FIELD_STATE_LABELS: dict[FieldState, str] = {
    FieldState.UNCHANGED: "",
    FieldState.CHANGED_IN_BC: "◀ BC changed",
    FieldState.CHANGED_IN_DATAVERSE: "▶ Dataverse changed",
    FieldState.CHANGED_ON_BOTH: "◆ both changed",
    FieldState.CONFLICT: "✖ conflict",
    FieldState.DIFFERENT: "≠ different",
}
"""The words of one field's state on the card, led by a symbol so the state reads without
colour too (a field's state, where :class:`SyncState` is the whole pair's)."""


def pair_sync_state(
    diff: RecordDiff | None,
    *,
    broken: bool = False,
    skipped: bool = False,
    conflict: bool = False,
    failed: bool = False,
    never_synced: bool = False,
) -> SyncState:
    """The sync state of a coupled pair.

    ``broken``: the coupling is marked broken or one of its records is gone. ``conflict``: a
    synchronization found a conflict that no later one settled. The coupling's remembered state
    wins over the comparison in this order: broken, skipped, conflict, failed, never synchronized
    (the order of the errors screen, so that a pair reads the same there and in the lists); only
    past those is ``diff`` (the three-way comparison of both records now) read, so it may be None
    when one of them decides."""
    if broken:
        return SyncState.BROKEN
    if skipped:
        return SyncState.SKIPPED
    if conflict:
        return SyncState.CONFLICT
    if failed:
        return SyncState.FAILED
    if never_synced:
        return SyncState.NOT_SYNCED
    if diff is None:
        raise ValueError("the sync state of a synchronized pair needs the comparison of both records")
    if diff.bc_modified and diff.dataverse_modified:
        return SyncState.CONFLICT if diff.conflicts else SyncState.CHANGED_ON_BOTH
    if diff.bc_modified:
        return SyncState.CHANGED_IN_BC
    if diff.dataverse_modified:
        return SyncState.CHANGED_IN_DATAVERSE
    return SyncState.SYNCED


__all__ = [
    "FIELD_STATE_LABELS",
    "OUTSIDE_FILTER",
    "STATE_HELP",
    "SyncState",
    "pair_sync_state",
    "state_help",
    "state_legend",
]
