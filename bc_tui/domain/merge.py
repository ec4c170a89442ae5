"""Planning the writes of one coupled pair: each side's changes flow to the other; true conflicts wait for a choice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.decisions import Choices, Edits, FieldDecision, decide_fields
from bc_tui.domain.diff import RecordDiff
from bc_tui.domain.mappings import ConflictResolution, SyncDirection, TableMapping
from bc_tui.domain.transfer import TransferResult, transfer

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE

Record = Mapping[str, Any]


@dataclass(frozen=True)
class MergePlan:
    """What a merge writes to each side, and which conflicts it left alone."""

    to_dataverse: TransferResult
    to_bc: TransferResult
    conflicts: tuple[str, ...]  # labels changed on both sides, not written (no winner chosen)
    decisions: tuple[FieldDecision, ...] = ()  # what happens to each field, for the dialog and the CLI

    @property
    def has_changes(self) -> bool:
        return bool(self.to_dataverse) or bool(self.to_bc)


def plan_merge(
    mapping: TableMapping,
    bc_record: Record,
    dataverse_record: Record,
    diff: RecordDiff,
    *,
    choices: Choices | None = None,
    edits: Edits | None = None,
    policy: ConflictResolution | None = None,
    run: SyncDirection = SyncDirection.MERGE,
    whole_record: bool = False,
) -> MergePlan:
    """The writes of a synchronization of one coupled pair, field by field.

    See docs/coupling-and-sync.md "Conflicts, field by field". A field changed on one side only
    flows to the other (if the field mapping allows that direction; a field changed only at a
    one-way mapping's destination is left alone in a merge). A bidirectional field changed on
    both sides to different values — or differing with no history — is a conflict: it is
    written only when ``choices`` (label or ``"*"`` → SEND/GET) or ``policy`` (default: the
    mapping's Resolve Update Conflicts) names the winner, and otherwise listed in ``conflicts``.
    ``edits`` (label → value) are written to both sides. ``run`` and ``whole_record``: see
    :func:`decisions.decide_fields`. Constants flow in the run's direction (both for a merge).
    """
    policy = mapping.resolve_update_conflicts if policy is None else policy
    decisions = decide_fields(
        mapping, diff, run=run, choices=choices, edits=edits, whole_record=whole_record, policy=policy
    )
    send = {d.label for d in decisions if d.to is SEND}
    get = {d.label for d in decisions if d.to is GET}
    edited = {d.label: d.value for d in decisions if d.edited}
    send |= set(edited)
    get |= set(edited)
    for fm in mapping.enabled_fields:
        if fm.constant is not None:
            if fm.allows(SEND) and run is not GET:
                send.add(fm.label)
            if fm.allows(GET) and run is not SEND:
                get.add(fm.label)
    return MergePlan(
        to_dataverse=transfer(bc_record, dataverse_record, mapping, SEND, only=send, values=edited),
        to_bc=transfer(dataverse_record, bc_record, mapping, GET, only=get, values=edited),
        conflicts=tuple(d.label for d in decisions if d.unresolved),
        decisions=decisions,
    )
