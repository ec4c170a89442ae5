"""Per-field winners of one record (docs/coupling-and-sync.md "Per-field winners").

A merge carries each side's one-sided changes to the other side by itself; what it cannot
decide alone are the fields that really conflict: both sides changed them to different values,
or they differ and no earlier synchronization says which side changed them. For those the user
picks a winner per field (Business Central or Dataverse) or, for a text field, types the value
both sides get. This module says which fields need a pick, which side is recommended for each and
why, and exactly what each choice of the direction dialog overwrites — field by field, with the
value there now and the value written — from the same field decisions the engine then carries
out (``SyncPreview.decisions``: send and get win the conflicting fields for their side, merge
takes the picks, and the whole-record choices overwrite every field that differs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bc_tui.domain.decisions import FieldDecision, decide_fields
from bc_tui.domain.diff import BC_MODIFIED, DATAVERSE_MODIFIED, FieldState, RecordDiff, diff_records, parse_time
from bc_tui.domain.mappings import ConflictResolution, Direction, SyncDirection, TableMapping
from bc_tui.domain.names import BUSINESS_CENTRAL, DATAVERSE
from bc_tui.domain.recommend import Recommendation
from bc_tui.sync.preview import SyncPreview
from bc_tui.sync.remember import last_sync
from bc_tui.sync.session import SyncSession

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: A field's pick: SEND keeps Business Central's value (it goes to Dataverse), GET keeps Dataverse's.
Picks = Mapping[str, SyncDirection]
#: A text field's edited value (label → the text both sides get); it overrides the field's pick.
Edits = Mapping[str, str]


@dataclass(frozen=True)
class FieldPick:
    """One conflicting field: both values, and the recommended winner with the reason."""

    label: str
    bc_value: Any
    dataverse_value: Any
    recommended: SyncDirection  # SEND: Business Central's value wins; GET: Dataverse's
    reason: str  # why ``recommended``: a clause, shown as "<side>, because <reason>."
    editable: bool = False  # a text field: the user may type the value both sides get


@dataclass(frozen=True)
class Overwrite:
    """One field a choice overwrites: on which side, the value there now and the value written.

    ``loses_change``: the overwritten side had changed this field since the last
    synchronization, so that change is lost; ``picked``: the field's winner was picked;
    ``edited``: the value written is the user's own.
    """

    label: str
    side: str  # the side written: "Business Central" or "Dataverse"
    old: Any
    new: Any
    loses_change: bool
    picked: bool = False
    edited: bool = False


@dataclass(frozen=True)
class RecordChoices:
    """What the direction dialog and the card need to offer per-field winners for one record:
    the conflicting fields with their recommendations, and what each choice overwrites."""

    mapping: TableMapping
    preview: SyncPreview
    picks: tuple[FieldPick, ...]

    def recommended(self) -> dict[str, SyncDirection]:
        """Each conflicting field's recommended winner."""
        return recommended_picks(self.picks)

    def overwrites(
        self,
        direction: SyncDirection,
        picked: Picks | None = None,
        edits: Edits | None = None,
        *,
        whole_record: bool = False,
    ) -> tuple[Overwrite, ...]:
        """What ``direction`` overwrites with the winners ``picked`` (see :func:`overwrites`)."""
        return overwrites(self.mapping, self.preview, direction, picked, edits, whole_record=whole_record)


def record_choices(session: SyncSession, preview: SyncPreview) -> RecordChoices:
    """The per-field choices of the record ``preview`` shows (no picks when nothing conflicts)."""
    mapping = session.mapping(preview.mapping)
    return RecordChoices(mapping, preview, field_picks(mapping, preview))


def winner_name(pick: SyncDirection) -> str:
    """The side whose value a pick keeps: "Business Central" (send) or "Dataverse" (get)."""
    return BUSINESS_CENTRAL if pick is SEND else DATAVERSE


def _diff(mapping: TableMapping, preview: SyncPreview) -> RecordDiff | None:
    if preview.coupling is None or preview.bc_record is None or preview.dataverse_record is None:
        return None
    return diff_records(mapping, preview.bc_record, preview.dataverse_record, last_sync(preview.coupling))


def _recommended(mapping: TableMapping, preview: SyncPreview, state: FieldState) -> tuple[SyncDirection, str]:
    """The recommended winner of a conflicting field, and why (a clause: "… because <why>")."""
    policy = mapping.resolve_update_conflicts
    bc = parse_time((preview.bc_record or {}).get(BC_MODIFIED))
    dataverse = parse_time((preview.dataverse_record or {}).get(DATAVERSE_MODIFIED))
    if policy in (ConflictResolution.SEND, ConflictResolution.GET):
        pick = SEND if policy is ConflictResolution.SEND else GET
        why = f"the table mapping resolves update conflicts in favour of {winner_name(pick)}"
    # Dataverse shows modifiedon in whole seconds (docs/watermarks.md): compare both sides at that
    # precision, so that two edits in the same second are a tie, not a guess.
    elif bc is not None and dataverse is not None and bc.replace(microsecond=0) != dataverse.replace(microsecond=0):
        pick = SEND if bc > dataverse else GET
        why = f"the {winner_name(pick)} record was changed last"
    else:
        pick = SEND
        why = "nothing says which change is newer, and Business Central is the default"
    if state is FieldState.DIFFERENT:
        return pick, f"no earlier synchronization says which side changed it, and {why}"
    return pick, why


def field_picks(mapping: TableMapping, preview: SyncPreview) -> tuple[FieldPick, ...]:
    """The fields of a coupled record whose winner must be picked, in mapping order.

    These are the fields the field decisions call conflicts (``decisions.decide_fields``), so
    exactly those a merge would leave undecided: bidirectional, changed on both sides to different
    values or different with no history. Empty when the record is not coupled, one record is
    missing, or nothing conflicts.
    """
    diff = _diff(mapping, preview)
    if diff is None or mapping.direction is not Direction.BIDIRECTIONAL:
        return ()
    conflicting = {d.label for d in decide_fields(mapping, diff, run=MERGE) if d.conflict}
    picks = []
    for field in diff.fields:
        if field.label not in conflicting:
            continue
        recommended, reason = _recommended(mapping, preview, field.state)
        # Only text can be typed in, and only where no transformation reads or writes the value.
        text = all(value is None or isinstance(value, str) for value in (field.bc, field.dataverse))
        editable = text and field.field.transformation is None
        picks.append(FieldPick(field.label, field.bc, field.dataverse, recommended, reason, editable))
    return tuple(picks)


def recommended_picks(picks: tuple[FieldPick, ...]) -> dict[str, SyncDirection]:
    """Each conflicting field's recommended winner: the picks before the user changes any."""
    return {pick.label: pick.recommended for pick in picks}


def picks_advice(advice: Recommendation, picks: tuple[FieldPick, ...]) -> Recommendation:
    """The direction dialog's recommendation once conflicts can be decided field by field.

    With conflicting fields, merge is offered and recommended (it keeps every one-sided change and
    writes the picked winner of each conflict); send and get stay offered (their side wins every
    conflicting field). Without conflicts ``advice`` is returned unchanged.
    """
    if not picks or len(advice.offered) < 2:
        return advice
    offered = tuple(advice.offered) if MERGE in advice.offered else (*advice.offered, MERGE)
    fields = ", ".join(pick.label for pick in picks)
    return replace(
        advice,
        offered=offered,
        recommended=MERGE,
        warning=f"Both sides changed {fields} differently; the side you do not pick loses its change there.",
    )


def _overwrites(decision: FieldDecision, picks: Picks, edits: Edits) -> list[Overwrite]:
    """The sides one field decision writes, Dataverse first."""
    picked = decision.label in picks or decision.label in edits
    result = []
    for side, writes, old in (
        (DATAVERSE, decision.writes_dataverse, decision.dataverse),
        (BUSINESS_CENTRAL, decision.writes_bc, decision.bc),
    ):
        if writes:
            lost = side in decision.overwritten
            result.append(Overwrite(decision.label, side, old, decision.result, lost, picked, decision.edited))
    return result


def overwrites(
    mapping: TableMapping,
    preview: SyncPreview,
    direction: SyncDirection,
    picks: Picks | None = None,
    edits: Edits | None = None,
    *,
    whole_record: bool = False,
) -> tuple[Overwrite, ...]:
    """Every field ``direction`` would write, in mapping order: on which side, the value there now,
    the value written, and whether a side's own change is lost.

    Send and get: their side wins the conflicting fields and every one-sided change still flows
    (``whole_record``: their side's record as a whole, every field that differs); merge: each
    conflicting field takes its winner in ``picks`` (label → SEND/GET) or its value in ``edits``.
    These are the decisions of the very plan ``synchronize_one`` makes with the same arguments
    (``SyncPreview.decisions``); ``mapping`` is the preview's table mapping.
    """
    if preview.table_mapping is None:
        preview = replace(preview, table_mapping=mapping)
    picks, edits = dict(picks or {}), dict(edits or {})
    if direction is MERGE:
        choices = {label: side for label, side in picks.items() if label not in edits}
        decisions = preview.decisions(MERGE, choices=choices, edits=edits)
        return tuple(o for d in decisions for o in _overwrites(d, picks, edits))
    decisions = preview.decisions(direction, whole_record=whole_record)
    return tuple(o for d in decisions for o in _overwrites(d, {}, {}))


__all__ = [
    "FieldPick",
    "Overwrite",
    "Edits",
    "Picks",
    "RecordChoices",
    "field_picks",
    "overwrites",
    "picks_advice",
    "record_choices",
    "recommended_picks",
    "winner_name",
]
