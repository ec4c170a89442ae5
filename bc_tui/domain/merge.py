"""Planning a merge: each side's changes flow to the other; true conflicts wait for a choice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.diff import FieldState, RecordDiff
from bc_tui.domain.mappings import ConflictResolution, FieldMapping, SyncDirection, TableMapping
from bc_tui.domain.transfer import TransferResult, transfer

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE

Record = Mapping[str, Any]


@dataclass(frozen=True)
class MergePlan:
    """What a merge writes to each side, and which conflicts it left alone."""

    to_dataverse: TransferResult
    to_bc: TransferResult
    conflicts: tuple[str, ...]  # labels changed on both sides, not written (no winner chosen)

    @property
    def has_changes(self) -> bool:
        return bool(self.to_dataverse) or bool(self.to_bc)


def _winner(fm: FieldMapping, choices: Mapping[str, SyncDirection], policy: ConflictResolution) -> SyncDirection | None:
    """The direction that wins a field whose sides disagree with no single author."""
    chosen = choices.get(fm.label)
    if chosen in (SEND, GET):
        return chosen
    if policy is ConflictResolution.SEND:
        return SEND
    if policy is ConflictResolution.GET:
        return GET
    return None


def _flow(fm: FieldMapping, state: FieldState) -> SyncDirection | None:
    """The direction a one-author change flows in, if the field mapping lets it."""
    if state is FieldState.CHANGED_IN_BC:
        return SEND
    if state is FieldState.CHANGED_IN_DATAVERSE:
        return GET
    if state in (FieldState.CHANGED_ON_BOTH, FieldState.DIFFERENT) and not fm.bidirectional:
        # A one-way field: its only allowed direction decides.
        return SEND if fm.allows(SEND) else GET
    return None


def plan_merge(
    mapping: TableMapping,
    bc_record: Record,
    dataverse_record: Record,
    diff: RecordDiff,
    *,
    choices: Mapping[str, SyncDirection] | None = None,
    policy: ConflictResolution | None = None,
) -> MergePlan:
    """The writes of a merge of one coupled pair.

    A field changed on one side only flows to the other (if the field mapping allows that
    direction; a field changed only at a one-way mapping's destination is left alone, never
    overwritten). A bidirectional field changed on both sides to different values — or differing
    with no history — is a conflict: it is written only when ``choices`` (label → SEND/GET, a
    per-field choice) or ``policy`` (default: the mapping's Resolve Update Conflicts) names the
    winner, and otherwise listed in ``conflicts``. A per-field choice also overrides the flow of
    any other field whose values differ. Constants flow in their field mapping's direction(s).
    """
    choices = choices or {}
    policy = mapping.resolve_update_conflicts if policy is None else policy
    send: set[str] = set()
    get: set[str] = set()
    conflicts: list[str] = []
    for field in diff.fields:
        fm = field.field
        if not field.differs:
            continue
        direction = choices.get(fm.label) if choices.get(fm.label) in (SEND, GET) else None
        if direction is None and field.state in (FieldState.CONFLICT, FieldState.DIFFERENT) and fm.bidirectional:
            direction = _winner(fm, choices, policy)
            if direction is None:
                conflicts.append(fm.label)
                continue
        if direction is None:
            direction = _flow(fm, field.state)
        if direction is None or not fm.allows(direction):
            continue
        (send if direction is SEND else get).add(fm.label)
    for fm in mapping.enabled_fields:
        if fm.constant is not None:
            if fm.allows(SEND):
                send.add(fm.label)
            if fm.allows(GET):
                get.add(fm.label)
    return MergePlan(
        to_dataverse=transfer(bc_record, dataverse_record, mapping, SEND, only=send),
        to_bc=transfer(dataverse_record, bc_record, mapping, GET, only=get),
        conflicts=tuple(conflicts),
    )
