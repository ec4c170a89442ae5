"""Field transfer: what to write to the destination record for one direction.

See docs/coupling-and-sync.md "Synchronizing modified records" step 3.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.mappings import FieldMapping, SyncDirection, TableMapping
from bc_tui.domain.transformations import read_bc, read_dataverse, transformation_of
from bc_tui.domain.values import is_empty, same_value

Record = Mapping[str, Any]


@dataclass(frozen=True)
class FieldChange:
    """One field mapping's value changing on the destination.

    ``field`` is the destination's field name, ``old``/``new`` the comparable values (what the
    user sees), ``writes`` the API fields and values to send — usually just ``field: new``, more
    when a transformation spreads one value over several fields (a contact's name parts).
    """

    label: str
    field: str
    old: Any
    new: Any
    writes: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class TransferResult:
    """The changes one direction would write to the destination record."""

    direction: SyncDirection
    changes: tuple[FieldChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels of the field mappings that change, in mapping order."""
        return tuple(change.label for change in self.changes)

    def payload(self) -> dict[str, Any]:
        """The body to PATCH (or POST) to the destination: API field → new value."""
        body: dict[str, Any] = {}
        for change in self.changes:
            body.update(change.writes)
        return body


def _source_value(fm: FieldMapping, source: Record, direction: SyncDirection) -> Any:
    if fm.constant is not None:
        return fm.constant
    return read_bc(fm, source) if direction is SyncDirection.TO_DATAVERSE else read_dataverse(fm, source)


def _destination_value(fm: FieldMapping, destination: Record, direction: SyncDirection) -> Any:
    return read_dataverse(fm, destination) if direction is SyncDirection.TO_DATAVERSE else read_bc(fm, destination)


def field_change(
    fm: FieldMapping, source: Record, destination: Record, direction: SyncDirection, *, edited: tuple[Any] | None = None
) -> FieldChange | None:
    """The change one field mapping makes to ``destination``, or None when nothing is written.

    ``edited`` (a 1-tuple, so None can be edited in) replaces the source's value: a value the
    user typed. Nothing is written when the new value equals the current one (codes trimmed and
    case-insensitive, None equal to "", numbers numerically) or when the mapping is *not-null*
    and the new value is empty.
    """
    new = edited[0] if edited is not None else _source_value(fm, source, direction)
    if fm.not_null and is_empty(new):
        return None
    old = _destination_value(fm, destination, direction)
    if same_value(old, new, is_code=fm.is_code):
        return None
    transformation = transformation_of(fm)
    if direction is SyncDirection.TO_DATAVERSE:
        writes = transformation.write_dataverse(fm, new, destination)
        field = fm.dataverse_field
    else:
        writes = transformation.write_bc(fm, new, destination)
        field = fm.bc_field
    # Only the API fields whose value actually moves are sent.
    kept = tuple((name, value) for name, value in writes.items() if not same_value(destination.get(name), value))
    if not kept:
        return None
    return FieldChange(label=fm.label, field=field, old=old, new=new, writes=kept)


def transfer(
    source: Record,
    destination: Record | None,
    mapping: TableMapping,
    direction: SyncDirection,
    *,
    only: Collection[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TransferResult:
    """The changes to write to ``destination`` when synchronizing ``source`` in ``direction``.

    ``direction`` is TO_DATAVERSE (source is the BC record) or FROM_DATAVERSE (source is the
    Dataverse record). Only enabled field mappings whose direction allows it take part; ``only``
    narrows them to some labels (used by merge); ``values`` (label → value) are written instead of
    the source's values (a user's edit, written to both sides). ``destination`` None means a new record: every
    non-empty value is written. Raises ValueError for MERGE (see ``merge.plan_merge``).
    """
    if direction is SyncDirection.MERGE:
        raise ValueError("A transfer goes one way; plan a merge with merge.plan_merge.")
    current: Record = destination if destination is not None else {}
    changes = []
    for fm in mapping.enabled_fields:
        if not fm.allows(direction) or (only is not None and fm.label not in only):
            continue
        edited = (values[fm.label],) if values is not None and fm.label in values else None
        change = field_change(fm, source, current, direction, edited=edited)
        if change is not None:
            changes.append(change)
    return TransferResult(direction=direction, changes=tuple(changes))


def apply(record: Record | None, result: TransferResult) -> dict[str, Any]:
    """A copy of ``record`` with ``result``'s writes applied (what the destination will hold)."""
    updated = dict(record or {})
    updated.update(result.payload())
    return updated
