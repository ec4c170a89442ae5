"""Field-level decisions: the value each field of a coupled pair ends with, and what that overwrites.

See docs/coupling-and-sync.md "Conflicts, field by field". The rule: a field changed on one side
only always flows to the other side, whatever the user picks for the conflicting fields; a side
wins only on the fields that really conflict (both sides changed them to different values, or no
history says which side changed them). Overwriting a side's record as a whole is a separate,
explicit choice (``whole_record``).

The user's picks are ``choices`` (field mapping label → SEND or GET, the side whose value wins;
the key ``"*"`` stands for every conflicting field not named) and ``edits`` (label → a value the
user typed for a text field, written to both sides). :func:`decide_fields` turns them into one
:class:`FieldDecision` per field; ``merge.plan_merge`` writes exactly those, and the direction
dialog and the command line describe them with :func:`FieldDecision.sentence`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bc_tui.domain.diff import FieldDiff, FieldState, RecordDiff
from bc_tui.domain.mappings import ConflictResolution, Direction, FieldMapping, SyncDirection, TableMapping
from bc_tui.domain.names import BUSINESS_CENTRAL, DATAVERSE
from bc_tui.domain.text import printable, shorten
from bc_tui.domain.values import same_value

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: The ``choices`` key meaning "every conflicting field not named on its own".
ALL_FIELDS = "*"

Choices = Mapping[str, SyncDirection]
Edits = Mapping[str, Any]

# The states in which a side changed the field itself (so writing over it loses that change).
_BC_CHANGED = (FieldState.CHANGED_IN_BC, FieldState.CHANGED_ON_BOTH, FieldState.CONFLICT, FieldState.DIFFERENT)
_DV_CHANGED = (FieldState.CHANGED_IN_DATAVERSE, FieldState.CHANGED_ON_BOTH, FieldState.CONFLICT, FieldState.DIFFERENT)


class ConflictPolicy(StrEnum):
    """What a synchronization of several records in one direction does with conflicting fields."""

    SKIP = "skip"  # a record with a conflicting field is a conflict: nothing of it is written
    WIN = "win"  # the run's side wins the conflicting fields; the other side's other changes still flow back


class DecisionError(ValueError):
    """A choice or an edit that cannot apply to the table mapping (one plain sentence)."""


@dataclass(frozen=True)
class FieldDecision:
    """What happens to one field mapping's value in a synchronization of one coupled pair.

    ``to``: SEND (Business Central's value is written to Dataverse), GET (the reverse) or None
    (no copy). ``edited``: the user's ``value`` is written to both sides. ``conflict``: both
    sides changed the field to different values (or nothing says which one did); ``unresolved``:
    such a field that no choice decided, so nothing of the record may be written.
    """

    label: str
    state: FieldState
    bc: Any
    dataverse: Any
    to: SyncDirection | None = None
    conflict: bool = False
    unresolved: bool = False
    edited: bool = False
    value: Any = None

    @property
    def writes_dataverse(self) -> bool:
        """True when Dataverse's value is replaced."""
        return self.to is SEND or (self.edited and not _same(self.value, self.dataverse))

    @property
    def writes_bc(self) -> bool:
        """True when Business Central's value is replaced."""
        return self.to is GET or (self.edited and not _same(self.value, self.bc))

    @property
    def result(self) -> Any:
        """The value both sides hold afterwards (None for a field left as it is)."""
        if self.edited:
            return self.value
        return self.bc if self.to is SEND else self.dataverse if self.to is GET else None

    @property
    def overwritten(self) -> tuple[str, ...]:
        """The services whose own change to this field is overwritten (lost): the dialog's warning."""
        lost = []
        if self.writes_bc and self.state in _BC_CHANGED:
            lost.append(BUSINESS_CENTRAL)
        if self.writes_dataverse and self.state in _DV_CHANGED:
            lost.append(DATAVERSE)
        return tuple(lost)

    def sentence(self) -> str:
        """What happens to this field, with both values, in one sentence (plain text)."""
        bc, dv = shown(self.bc), shown(self.dataverse)
        if self.unresolved:
            return f"{self.label}: {BUSINESS_CENTRAL} has {bc}, {DATAVERSE} has {dv}; choose which side wins."
        if self.edited:
            value = shown(self.value)
            return f"{self.label}: both sides get your value {value} ({BUSINESS_CENTRAL} had {bc}, {DATAVERSE} {dv})."
        if self.to is None:
            return f"{self.label}: left as it is ({BUSINESS_CENTRAL} {bc}, {DATAVERSE} {dv})."
        source, destination, new, old = (
            (BUSINESS_CENTRAL, DATAVERSE, bc, dv) if self.to is SEND else (DATAVERSE, BUSINESS_CENTRAL, dv, bc)
        )
        if self.overwritten:
            return f"{self.label}: {source} {new} overwrites {destination} {old}."
        return f"{self.label}: {source} {new} goes to {destination} (was {old})."


def shown(value: Any) -> str:
    """A value inside a sentence: quoted, control characters made visible, long ones shortened."""
    if value is None or value == "":
        return "(empty)"
    return f"'{shorten(printable(value))}'"


def _same(left: Any, right: Any) -> bool:
    return same_value(left, right)


def _policy_winner(policy: ConflictResolution | None) -> SyncDirection | None:
    return {ConflictResolution.SEND: SEND, ConflictResolution.GET: GET}.get(policy) if policy else None


def _flow(fm: FieldMapping, state: FieldState) -> SyncDirection | None:
    """The direction a one-author change flows in (a one-way field: its only direction)."""
    if state is FieldState.CHANGED_IN_BC:
        return SEND
    if state is FieldState.CHANGED_IN_DATAVERSE:
        return GET
    if state in (FieldState.CHANGED_ON_BOTH, FieldState.DIFFERENT, FieldState.CONFLICT) and not fm.bidirectional:
        return SEND if fm.allows(SEND) else GET
    return None


def _decide(
    d: FieldDiff,
    run: SyncDirection,
    choices: Choices,
    edits: Edits,
    whole_record: bool,
    policy: ConflictResolution | None,
    table_two_way: bool,
    retry: SyncDirection | None,
) -> FieldDecision:
    fm = d.field
    if d.label in edits:
        return FieldDecision(d.label, d.state, d.bc, d.dataverse, edited=True, value=edits[d.label])
    if not d.differs:
        return FieldDecision(d.label, d.state, d.bc, d.dataverse)
    # In a one-way table mapping every field is one-way: only its source may win it.
    conflict = table_two_way and fm.bidirectional and d.state in (FieldState.CONFLICT, FieldState.DIFFERENT)
    to: SyncDirection | None
    if whole_record and run is not MERGE:
        # The chosen side's record as a whole: every field it may write.
        to = run
    elif d.label in choices:
        to = choices[d.label]  # an explicit pick for this very field
    elif conflict:
        to = choices.get(ALL_FIELDS) or _policy_winner(policy)
        if to is None:
            return FieldDecision(d.label, d.state, d.bc, d.dataverse, conflict=True, unresolved=True)
    elif not (fm.bidirectional and table_two_way) and run is not MERGE and fm.allows(run):
        # A one-way field in the run's direction: its source is its master (BC's one-way rule).
        to = run
    else:
        to = _flow(fm, d.state)
        if to is None and d.state is FieldState.UNCHANGED:
            to = retry  # the values were left apart by a synchronization that failed: try again
    if to is not None and not (fm.allows(to) and (table_two_way or to is run)):
        to = None
    return FieldDecision(d.label, d.state, d.bc, d.dataverse, to=to, conflict=conflict)


def decide_fields(
    mapping: TableMapping,
    diff: RecordDiff,
    *,
    run: SyncDirection = MERGE,
    choices: Choices | None = None,
    edits: Edits | None = None,
    whole_record: bool = False,
    policy: ConflictResolution | None = None,
) -> tuple[FieldDecision, ...]:
    """One decision per compared field mapping of a coupled pair, in mapping order.

    ``run``: the direction of the synchronization (a one-way field in that direction follows
    its source); ``choices``: label (or ``"*"``) → the side that wins; ``edits``: label → the
    value for both sides; ``whole_record`` (send or get only): the run's side overwrites every
    field that differs, changed on the other side or not; ``policy``: the table mapping's Resolve
    Update Conflicts, for conflicting fields no choice names. Raises :class:`DecisionError` for a
    choice or edit that does not fit the mapping (see :func:`check_decision`).
    """
    choices, edits = choices or {}, edits or {}
    check_decision(mapping, choices, edits)
    two_way = mapping.direction is Direction.BIDIRECTIONAL
    retries = [d for d, failed in ((SEND, diff.retry_to_dataverse), (GET, diff.retry_from_dataverse)) if failed]
    retry = run if run in retries else (retries[0] if retries else None)
    return tuple(_decide(d, run, choices, edits, whole_record, policy, two_way, retry) for d in diff.fields)


def check_decision(mapping: TableMapping, choices: Choices, edits: Edits) -> None:
    """Raise :class:`DecisionError` when a choice names no field mapping or is not send/get, or
    an edit is not text for an enabled bidirectional field mapping."""
    labels = {fm.label: fm for fm in mapping.enabled_fields if fm.constant is None}
    for label, side in choices.items():
        if label != ALL_FIELDS and label not in labels:
            raise DecisionError(f"The table mapping {mapping.name} has no enabled field mapping {label!r}.")
        if side not in (SEND, GET):
            raise DecisionError(f"A choice for {label!r} must name Business Central or Dataverse.")
    for label, value in edits.items():
        fm = labels.get(label)
        if fm is None:
            raise DecisionError(f"The table mapping {mapping.name} has no enabled field mapping {label!r}.")
        if not fm.bidirectional or mapping.direction is not Direction.BIDIRECTIONAL or fm.transformation is not None:
            raise DecisionError(f"{label} cannot take an edited value: only text fields that flow both ways can.")
        if value is not None and not isinstance(value, str):
            raise DecisionError(f"The edited value of {label} must be text.")


def field_label(mapping: TableMapping, name: str) -> str:
    """The label of the field mapping called ``name``: its label or either side's API name
    (case-insensitive), or ``"*"``; :class:`DecisionError` when there is none."""
    wanted = name.strip()
    if wanted == ALL_FIELDS:
        return ALL_FIELDS
    for fm in mapping.enabled_fields:
        if fm.constant is None and wanted.casefold() in (
            fm.label.casefold(),
            fm.bc_field.casefold(),
            fm.dataverse_field.casefold(),
        ):
            return fm.label
    raise DecisionError(
        f"The table mapping {mapping.name} has no enabled field mapping called {printable(wanted)!r}; "
        "name it by its label (City) or by either side's API name (city, address1_city)."
    )


def overwrites(decisions: tuple[FieldDecision, ...]) -> tuple[FieldDecision, ...]:
    """The decisions that overwrite a change one side made itself (what the user gives up)."""
    return tuple(d for d in decisions if d.overwritten)


def writes(decisions: tuple[FieldDecision, ...]) -> tuple[FieldDecision, ...]:
    """The decisions that write anything (to either side)."""
    return tuple(d for d in decisions if d.writes_bc or d.writes_dataverse)


def run_choices(
    direction: SyncDirection, policy: ConflictPolicy, choices: Choices | None = None
) -> dict[str, SyncDirection]:
    """The choices of a run over several records in ``direction``: ``WIN`` lets that side win the
    conflicting fields no choice names; ``SKIP`` adds nothing (conflicts stay conflicts)."""
    chosen = dict(choices or {})
    if policy is ConflictPolicy.WIN and direction is not MERGE:
        chosen.setdefault(ALL_FIELDS, direction)
    return chosen
