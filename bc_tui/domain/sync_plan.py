"""The per-record synchronization decision: skip, insert, update, conflict or nothing.

See docs/coupling-and-sync.md "Synchronizing modified records" and "Deleted records and broken couplings".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.decisions import Choices, Edits, FieldDecision
from bc_tui.domain.diff import LastSync, RecordDiff, diff_records
from bc_tui.domain.mappings import DeletionResolution, Direction, SyncDirection, TableMapping
from bc_tui.domain.merge import plan_merge
from bc_tui.domain.names import (
    BUSINESS_CENTRAL,
    DATAVERSE,
    bc_noun,
    dataverse_noun,
    describe,
    describe_bc,
    describe_dataverse,
    join_labels,
    sentence,
)
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transfer import TransferResult, transfer
from bc_tui.domain.words import direction_words

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

Record = Mapping[str, Any]


@dataclass(frozen=True)
class RecordPlan:
    """What to do with one record: the outcome, the writes per side, and the message to log.

    ``to_dataverse``/``to_bc`` hold the field changes to write (their ``payload()`` is the body
    to send); they are empty unless the outcome is INSERTED or MODIFIED. ``broken_coupling``
    marks a coupling whose counterpart was deleted (docs/coupling-and-sync.md "Deleted records and broken
    couplings"): list it with the coupling errors.
    """

    outcome: Outcome
    direction: SyncDirection
    to_dataverse: TransferResult = TransferResult(SEND)
    to_bc: TransferResult = TransferResult(GET)
    message: str | None = None
    conflicts: tuple[str, ...] = ()
    broken_coupling: bool = False
    diff: RecordDiff | None = None
    decisions: tuple[FieldDecision, ...] = ()  # per field: what is written where (coupled pairs)


def _direction_verb(direction: SyncDirection) -> str:
    return direction_words(direction).phrase


def _broken(
    mapping: TableMapping,
    direction: SyncDirection,
    bc_record: Record | None,
    dataverse_record: Record | None,
) -> RecordPlan:
    """The coupled counterpart of a record is gone.

    See docs/coupling-and-sync.md "Deleted records and broken couplings".
    """
    if not bc_record and not dataverse_record:
        return RecordPlan(
            Outcome.UNCOUPLED,
            direction,
            message=f"The coupling of {bc_noun(mapping)} records was removed: both coupled records were deleted.",
            broken_coupling=True,
        )
    survivor_is_bc = bool(bc_record)
    record = describe_bc(mapping, bc_record) if bc_record else describe_dataverse(mapping, dataverse_record or {})
    deleted = f"{DATAVERSE} {dataverse_noun(mapping)}" if survivor_is_bc else f"{BUSINESS_CENTRAL} {bc_noun(mapping)}"
    policy = mapping.resolve_deletion_conflicts
    if policy is DeletionResolution.REMOVE_COUPLING:
        return RecordPlan(
            Outcome.UNCOUPLED,
            direction,
            message=f"The coupling of {record} was removed because the coupled {deleted} was deleted.",
            broken_coupling=True,
        )
    restores_here = (direction is SEND and survivor_is_bc) or (direction is GET and not survivor_is_bc)
    if policy is DeletionResolution.RESTORE and restores_here:
        if survivor_is_bc:
            changes = transfer(bc_record or {}, None, mapping, SEND)
            return RecordPlan(Outcome.INSERTED, direction, to_dataverse=changes, broken_coupling=True)
        changes = transfer(dataverse_record or {}, None, mapping, GET)
        return RecordPlan(Outcome.INSERTED, direction, to_bc=changes, broken_coupling=True)
    return RecordPlan(
        Outcome.SKIPPED,
        direction,
        message=(
            f"{sentence(record)} cannot be updated because it is coupled to a deleted {deleted}. "
            "Restore the deleted record or delete the coupling."
        ),
        broken_coupling=True,
    )


def conflict_message(
    mapping: TableMapping, record: str, direction: SyncDirection, on_both: list[str], at_destination: list[str]
) -> str:
    """'Cannot update customer 10000 Adatum Corporation in Dataverse: the mapping CUSTOMER is
    bidirectional and Phone No. changed on both sides since the last synchronization. Choose
    which side wins (send or get).'"""
    destination = DATAVERSE if direction is SEND else BUSINESS_CENTRAL
    clauses = []
    if on_both:
        clauses.append(f"{join_labels(on_both)} changed on both sides")
    if at_destination:
        clauses.append(f"{join_labels(at_destination)} changed in {destination}")
    where = f"in {destination}" if direction is not MERGE else "in Business Central and Dataverse"
    return (
        f"Cannot update {record} {where}: the mapping {mapping.name} is bidirectional and "
        f"{' and '.join(clauses)} since the last synchronization. Choose which side wins (send or get)."
    )


def plan_sync(
    mapping: TableMapping,
    direction: SyncDirection,
    *,
    bc_record: Record | None,
    dataverse_record: Record | None,
    coupled: bool,
    last: LastSync | None = None,
    many: bool = False,
    force: bool = False,
    whole_record: bool = False,
    allow_insert: bool = False,
    choices: Choices | None = None,
    edits: Edits | None = None,
) -> RecordPlan:
    """Decide what synchronizing one record in ``direction`` does.

    See docs/coupling-and-sync.md "Synchronizing modified records" and "Conflicts, field by field".

    In order: the mapping must allow the direction; an uncoupled record is inserted when
    ``allow_insert`` (a full run of a mapping that does not sync only coupled records) else
    skipped; a coupling whose counterpart is gone is broken (the mapping's deletion policy may
    restore the record or remove the coupling); a Skipped coupling is skipped; a pair neither
    side changed is unchanged (unless ``force``: the user chose this record). Then the pair is
    planned field by field (``merge.plan_merge``): a field changed on one side only flows to the
    other whatever the direction; a conflicting field is won by the side ``choices`` names
    (label or ``"*"`` → SEND/GET), else by the mapping's Resolve Update Conflicts policy, else the
    record is a conflict and nothing is written. ``edits`` (label → value) go to both sides.
    ``whole_record`` (send/get; implied for a pair never synchronized): the direction's side
    overwrites every field that differs. A one-way table mapping never writes its source: in a
    run over ``many`` records one whose destination changed is skipped, and one whose source did
    not change is unchanged.
    """
    record = describe(mapping, bc_record, dataverse_record)
    if not mapping.allows(direction):
        return RecordPlan(
            Outcome.SKIPPED,
            direction,
            message=f"Cannot synchronize {record}: the mapping {mapping.name} does not {_direction_verb(direction)}.",
        )
    source = bc_record if direction is SEND else dataverse_record
    if not coupled:
        if allow_insert and direction is not MERGE and source:
            changes = transfer(source, None, mapping, direction)
            if direction is SEND:
                return RecordPlan(Outcome.INSERTED, direction, to_dataverse=changes)
            return RecordPlan(Outcome.INSERTED, direction, to_bc=changes)
        other = f"{DATAVERSE} {dataverse_noun(mapping)}" if bc_record else f"{BUSINESS_CENTRAL} {bc_noun(mapping)}"
        return RecordPlan(
            Outcome.SKIPPED,
            direction,
            message=f"{sentence(record)} is not coupled to a {other}; set up a coupling first.",
        )
    if not bc_record or not dataverse_record:
        return _broken(mapping, direction, bc_record, dataverse_record)
    last = last or LastSync()
    if last.skipped:
        return RecordPlan(
            Outcome.SKIPPED,
            direction,
            message=f"{sentence(record)} is skipped after a repeatable failure; retry it to synchronize it again.",
        )
    diff = diff_records(mapping, bc_record, dataverse_record, last)
    if last.never_synced and direction is not MERGE:
        # No baseline to tell which side changed: the first synchronization takes the
        # direction the user chose (as after coupling with "Synchronize After Coupling").
        whole_record = True
    source_modified = diff.bc_modified if direction is SEND else diff.dataverse_modified
    destination_modified = diff.dataverse_modified if direction is SEND else diff.bc_modified
    one_way = mapping.direction is not Direction.BIDIRECTIONAL
    if direction is not MERGE and not whole_record and not force and one_way:
        # A one-way table mapping never writes its source, so the destination's own changes
        # cannot flow back: a run leaves such a record alone rather than overwrite them.
        if many and destination_modified:
            destination_name = DATAVERSE if direction is SEND else BUSINESS_CENTRAL
            return RecordPlan(
                Outcome.SKIPPED,
                direction,
                message=(
                    f"{sentence(record)} was skipped because it changed in {destination_name} since the last "
                    "synchronization; synchronize it on its own to choose which side wins."
                ),
                diff=diff,
            )
        if not source_modified:
            return RecordPlan(Outcome.UNCHANGED, direction, diff=diff)
    if not (force or whole_record or edits) and not diff.bc_modified and not diff.dataverse_modified:
        return RecordPlan(Outcome.UNCHANGED, direction, diff=diff)
    plan = plan_merge(
        mapping,
        bc_record,
        dataverse_record,
        diff,
        choices=choices,
        edits=edits,
        run=direction,
        whole_record=whole_record and direction is not MERGE,
    )
    if plan.conflicts:
        return RecordPlan(
            Outcome.CONFLICT,
            direction,
            message=conflict_message(mapping, record, direction, list(plan.conflicts), []),
            conflicts=plan.conflicts,
            diff=diff,
            decisions=plan.decisions,
        )
    if not plan.has_changes:
        return RecordPlan(Outcome.UNCHANGED, direction, diff=diff, decisions=plan.decisions)
    return RecordPlan(
        Outcome.MODIFIED,
        direction,
        to_dataverse=plan.to_dataverse,
        to_bc=plan.to_bc,
        diff=diff,
        decisions=plan.decisions,
    )
