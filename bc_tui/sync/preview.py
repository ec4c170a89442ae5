"""What the user reads before synchronizing one record (docs/coupling-and-sync.md "Synchronize Now").

Coupled or not, the recommended direction and why, and the three-way field comparison (last synced / BC now /
Dataverse now).

The TUI's "Synchronize data for X?" dialog and the CLI's ``sync`` prompt both render a
:class:`SyncPreview`; the user's answer then goes to ``synchronize.synchronize_one``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from bc_tui.domain.decisions import Choices, ConflictPolicy, Edits, FieldDecision, run_choices
from bc_tui.domain.diff import FieldState, diff_records
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.domain.messages import not_coupled_question
from bc_tui.domain.names import BUSINESS_CENTRAL, DATAVERSE, bc_noun, describe_bc, describe_dataverse, sentence
from bc_tui.domain.recommend import OPTION_TEXT, Recommendation, recommend
from bc_tui.domain.sync_plan import plan_sync
from bc_tui.domain.sync_state import SyncState
from bc_tui.domain.values import same_value
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.records import CouplingRecord, normalize_id
from bc_tui.sync.errors import SyncError
from bc_tui.sync.pair_state import coupled_pair_state
from bc_tui.sync.records import Record, get_bc, get_dataverse
from bc_tui.sync.remember import last_sync
from bc_tui.sync.session import SyncSession

_ARROWS = {Direction.BIDIRECTIONAL: "↔", Direction.TO_DATAVERSE: "→", Direction.FROM_DATAVERSE: "←"}


@dataclass(frozen=True)
class FieldRow:
    """One row of the three-way card: a field mapping's values last synced, in BC and in Dataverse."""

    label: str
    direction: Direction  # the field mapping's direction (↔, →, ←)
    last_synced: Any  # the value both sides held at the last synchronization (None: unknown)
    bc_now: Any
    dataverse_now: Any
    state: FieldState
    has_history: bool  # False: no earlier synchronization remembers this field
    last_bc: Any = None  # what each side held at the last synchronization, when they differed
    last_dataverse: Any = None

    @property
    def arrow(self) -> str:
        """↔, → or ← for the field mapping's direction."""
        return _ARROWS[self.direction]

    @property
    def differs(self) -> bool:
        """True when BC and Dataverse hold different values now."""
        return not same_value(self.bc_now, self.dataverse_now)


@dataclass(frozen=True)
class SyncPreview:
    """Everything the one-record synchronize dialog shows.

    Not coupled: ``question`` asks whether to set up a coupling and nothing else is filled in.
    Coupled: ``recommendation`` (pre-selected direction, offered options, reasons, conflicting
    fields, warning) and ``fields``. ``problem`` explains why synchronizing would not work as
    is (the record is Skipped, or its counterpart was deleted).
    """

    mapping: str
    bc_id: str
    record: str  # "customer 10000 Adatum Corporation"
    coupled: bool
    coupling: CouplingRecord | None = None
    dataverse_id: str | None = None
    counterpart: str | None = None  # "account Adatum Corporation"
    question: str | None = None
    recommendation: Recommendation | None = None
    fields: tuple[FieldRow, ...] = ()
    problem: str | None = None
    bc_record: Record | None = None
    dataverse_record: Record | None = None
    state: SyncState | None = None  # the pair's sync state (the lists' words); None: not coupled
    table_mapping: TableMapping | None = None

    def decisions(
        self,
        direction: SyncDirection,
        *,
        choices: Choices | None = None,
        edits: Edits | None = None,
        whole_record: bool = False,
    ) -> tuple[FieldDecision, ...]:
        """What ``synchronize_one`` with these arguments would do to each field, from the records
        read for this preview (docs/coupling-and-sync.md "Conflicts, field by field"): the
        dialog's and the command line's "what each choice overwrites". Empty when not coupled or
        a record is missing; :class:`DecisionError` for a choice that names no field mapping."""
        if self.table_mapping is None or self.coupling is None or not self.bc_record or not self.dataverse_record:
            return ()
        direction = SyncDirection(direction)
        plan = plan_sync(
            self.table_mapping,
            direction,
            bc_record=self.bc_record,
            dataverse_record=self.dataverse_record,
            coupled=True,
            last=last_sync(self.coupling),
            force=True,
            whole_record=whole_record,
            choices=run_choices(direction, ConflictPolicy.WIN, choices),
            edits=edits,
        )
        return plan.decisions

    @property
    def options(self) -> tuple[tuple[SyncDirection, str], ...]:
        """The offered choices with their texts ("Send data update to Dataverse." …)."""
        if self.recommendation is None:
            return ()
        return tuple((option, OPTION_TEXT[option]) for option in self.recommendation.offered)


async def preview_sync(session: SyncSession, mapping_name: str, bc_id: str) -> SyncPreview:
    """Read the BC record, its coupling and its coupled Dataverse record, and say what a
    synchronization would do; raises :class:`SyncError` when the BC record does not exist."""
    mapping = session.mapping(mapping_name)
    bc_id = normalize_id(bc_id)
    coupling = await session.db(get_by_bc_id, mapping.name, bc_id)
    if coupling is None:
        bc = await get_bc(session, mapping, bc_id)
        if bc is None:
            raise SyncError(f"The {bc_noun(mapping)} {bc_id} does not exist in Business Central; reload the list.")
        record = describe_bc(mapping, bc)
        return SyncPreview(
            mapping=mapping.name,
            bc_id=bc_id,
            record=record,
            coupled=False,
            question=not_coupled_question(f"the {record}"),
            bc_record=bc,
        )
    bc, dataverse = await asyncio.gather(
        get_bc(session, mapping, bc_id), get_dataverse(session, mapping, coupling.dataverse_id)
    )
    if bc is None and dataverse is None:
        raise SyncError(
            f"The {bc_noun(mapping)} {coupling.bc_number or bc_id} and its coupled Dataverse record were both deleted; "
            "delete the coupling."
        )
    record = describe_bc(mapping, bc) if bc else f"{bc_noun(mapping)} {coupling.bc_number or bc_id}"
    counterpart = describe_dataverse(mapping, dataverse) if dataverse else None
    # What every coupled preview shows; the returns below add the problem, recommendation and fields.
    base = SyncPreview(
        mapping=mapping.name,
        bc_id=bc_id,
        record=record,
        coupled=True,
        coupling=coupling,
        dataverse_id=coupling.dataverse_id,
        counterpart=counterpart,
        bc_record=bc,
        dataverse_record=dataverse,
        state=coupled_pair_state(mapping, coupling, bc, dataverse),
        table_mapping=mapping,
    )
    if bc is None or dataverse is None:
        deleted = f"{BUSINESS_CENTRAL} {bc_noun(mapping)}" if bc is None else f"{DATAVERSE} record"
        return replace(
            base,
            problem=(
                f"{sentence(record)} is coupled to a deleted {deleted}. "
                "Restore the deleted record or delete the coupling."
            ),
        )
    last = last_sync(coupling)
    diff = diff_records(mapping, bc, dataverse, last)
    rows = tuple(
        FieldRow(
            label=d.label,
            direction=d.field.direction,
            last_synced=d.last_bc if d.has_history else None,
            bc_now=d.bc,
            dataverse_now=d.dataverse,
            state=d.state,
            has_history=d.has_history,
            last_bc=d.last_bc,
            last_dataverse=d.last_dataverse,
        )
        for d in diff.fields
    )
    problem = None
    if coupling.skipped:
        failure = coupling.to_dataverse_error or coupling.from_dataverse_error or "see the log"
        problem = (
            f"{sentence(record)} is skipped after a repeatable failure ({failure}); "
            "retry it on the errors screen to synchronize it again."
        )
    return replace(base, recommendation=recommend(mapping, diff, f"the {record}"), fields=rows, problem=problem)


__all__ = ["FieldRow", "SyncPreview", "preview_sync"]
