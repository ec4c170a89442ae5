"""What a synchronization job overwrote, as the job stores it for undo and history
(docs/undo-and-history.md "What a job keeps").

Per record written: each field the write changed, by the service's own name, with its value
before and after; the ETag right after the write; and the coupling's snapshot before the job
for the field mappings whose remembered values the job moved. Nothing else: a record the job
left alone costs nothing, and a field it did not change is not kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of
from bc_tui.store.history import INSERTED, MODIFIED, RecordChangeEntry, Snapshot
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.records import ETAG, Record
from bc_tui.sync.sides import SideDescription


def moved_snapshot(before: Snapshot | None, after: Snapshot | None) -> Snapshot | None:
    """The labels of ``before`` whose values ``after`` changed, with their ``before`` values
    (per part, ``bc`` and ``dataverse``); None when there was no snapshot before."""
    if not before:
        return None
    moved: Snapshot = {}
    for part, values in (after or {}).items():
        old = before.get(part, {})
        changed = {label: old.get(label) for label, value in values.items() if old.get(label) != value}
        if changed:
            moved[part] = changed
    return moved


def overwritten(
    mapping: TableMapping,
    coupling: CouplingRecord,
    side: SideDescription[Any],
    before: Record,
    payload: Mapping[str, Any],
    row: Record,
    job_id: int,
    *,
    snapshot_after: Snapshot | None,
    description: str,
) -> RecordChangeEntry:
    """What a job keeps of one write to ``side``: ``before`` is the record as the job read it,
    ``payload`` what it sent, ``row`` the record as the service answered (or as read back)."""
    fields = {name: [before.get(name), row.get(name, value)] for name, value in payload.items()}
    snapshot = moved_snapshot(coupling.snapshot, snapshot_after)
    return _entry(mapping, coupling, side, job_id, MODIFIED, description, fields, snapshot, row)


def created(
    mapping: TableMapping,
    coupling: CouplingRecord,
    side: SideDescription[Any],
    body: Mapping[str, Any],
    row: Record | None,
    job_id: int,
    *,
    description: str,
) -> RecordChangeEntry:
    """What a creation job keeps of a record it created on ``side`` from ``body`` (``row``: the
    record as the service answered, when it did): every field sent, as ``[None, value]``."""
    answered = row or {}
    fields = {name: [None, answered.get(name, value)] for name, value in body.items() if "@" not in name}
    return _entry(mapping, coupling, side, job_id, INSERTED, description, fields, None, answered)


def _entry(
    mapping: TableMapping,
    coupling: CouplingRecord,
    side: SideDescription[Any],
    job_id: int,
    action: str,
    description: str,
    fields: dict[str, list[Any]],
    snapshot: Snapshot | None,
    row: Record,
) -> RecordChangeEntry:
    """The entry of one write of ``action`` to ``side`` of ``coupling``'s pair (``row``: the
    record as the service answered, for its ETag)."""
    return RecordChangeEntry(
        job_id=job_id,
        mapping=mapping.name,
        coupling_id=coupling.id,
        bc_id=coupling.bc_id,
        dataverse_id=coupling.dataverse_id,
        side=side.side,
        action=action,
        record=description,
        fields=fields,
        snapshot=snapshot,
        etag=_text(row.get(ETAG)),
    )


def field_labels(mapping: TableMapping, side: SideDescription[Any], names: Iterable[str]) -> list[str]:
    """The field mappings' labels of these API fields of ``side`` (a field no mapping reads is
    named as the service names it), each once."""
    fields_of = dataverse_fields_of if side.is_dataverse else bc_fields_of
    labels: dict[str, None] = {}
    for name in names:
        label = next((fm.label for fm in mapping.fields if name in fields_of(fm)), name)
        labels[label] = None
    return list(labels)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["created", "field_labels", "moved_snapshot", "overwritten"]
