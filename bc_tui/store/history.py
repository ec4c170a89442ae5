"""What each synchronization job overwrote, record by record: the data behind undo and a
record's history (docs/undo-and-history.md).

A job stores its changes with :func:`record_changes` in the transaction that stores its
results, one INSERT per chunk of records; undo reads them back with :func:`job_changes`, the
card and ``bc-tui history`` with :func:`record_history`. Old changes go with
:func:`prune_history`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import peewee

from bc_tui.store.coupling_rows import coupling_record, row_for_update
from bc_tui.store.database import atomic
from bc_tui.store.detach import detached
from bc_tui.store.fields import utc_now
from bc_tui.store.models import Coupling, RecordChange
from bc_tui.store.records import CouplingRecord, Side, normalize_id

#: Rows per INSERT: 12 columns each stays far below SQLite's and PostgreSQL's parameter limits.
_INSERT_ROWS = 200

#: What a change did to its record.
MODIFIED, INSERTED = "modified", "inserted"

#: A snapshot as the coupling keeps it: ``{"bc": {label: value}, "dataverse": {label: value}}``.
Snapshot = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class RecordChangeEntry:
    """One record a job wrote, as a job stores it (see ``models.RecordChange`` for the columns)."""

    job_id: int
    mapping: str
    coupling_id: int | None
    bc_id: str
    dataverse_id: str
    side: Side
    action: str
    record: str
    fields: dict[str, list[Any]]
    snapshot: Snapshot | None
    etag: str | None


@dataclass(frozen=True)
class RecordChangeRecord(RecordChangeEntry):
    """A stored :class:`RecordChangeEntry`, with its id and when it was written."""

    id: int = 0
    created_at: datetime | None = None


def record_changes(entries: Sequence[RecordChangeEntry]) -> None:
    """Store what a job wrote: one row per entry, a few INSERT statements for a whole chunk."""
    if not entries:
        return
    now = utc_now()
    rows = [{**asdict(entry), "side": Side(entry.side).value, "created_at": now} for entry in entries]
    with atomic():
        for start in range(0, len(rows), _INSERT_ROWS):
            RecordChange.insert_many(rows[start : start + _INSERT_ROWS]).execute()


def job_changes(job_id: int, bc_ids: Iterable[str] | None = None) -> list[RecordChangeRecord]:
    """What job ``job_id`` wrote, in the order it wrote it; ``bc_ids``: only these records."""
    query = RecordChange.select().where(RecordChange.job_id == job_id).order_by(RecordChange.id)
    wanted = None if bc_ids is None else {normalize_id(i) for i in bc_ids}
    return [_record(row) for row in query if wanted is None or row.bc_id in wanted]


def record_history(mapping: str, bc_id: str, *, limit: int = 200) -> list[RecordChangeRecord]:
    """What the jobs wrote to one coupled pair (by its BC record), newest first."""
    query = (
        RecordChange.select()
        .where((RecordChange.mapping == mapping) & (RecordChange.bc_id == normalize_id(bc_id)))
        .order_by(RecordChange.id.desc())
        .limit(limit)
    )
    return [_record(row) for row in query]


def bc_id_numbered(mapping: str, number: str) -> str | None:
    """The BC record a coupling of ``mapping`` knows by this number (case-insensitive), or None:
    its history outlives the record in Business Central."""
    row = (
        Coupling.select(Coupling.bc_id)
        .where((Coupling.mapping == mapping) & (peewee.fn.UPPER(Coupling.bc_number) == number.upper()))
        .first()
    )
    return None if row is None else str(row.bc_id)


def restore_coupling_state(
    coupling_id: int, side: Side, etag: str | None, modified_at: datetime | None, snapshot: Snapshot | None
) -> CouplingRecord:
    """After an undo wrote ``side``: remember that side's new ETag and modified time, and put
    the snapshot's labels back as ``snapshot`` holds them (None: the coupling had no snapshot
    before the undone job), so that the next synchronization does not take the undo for an
    edit (docs/undo-and-history.md "Undo")."""
    with atomic():
        row = row_for_update(coupling_id)
        setattr(row, f"{Side(side).value}_etag", etag)
        if modified_at is not None:
            setattr(row, f"{Side(side).value}_modified_at", modified_at)
        if snapshot is None:
            row.snapshot = None
        else:
            merged: Snapshot = {part: dict(values) for part, values in (row.snapshot or {}).items()}
            for part, values in snapshot.items():
                merged.setdefault(part, {}).update(values)
            row.snapshot = merged
        row.updated_at = utc_now()
        row.save()
    return coupling_record(row)


def prune_history(before: datetime) -> int:
    """Forget what jobs wrote before ``before`` (one DELETE on an indexed column); how many rows."""
    removed: int = RecordChange.delete().where(RecordChange.created_at < before).execute()
    return removed


def _record(row: RecordChange) -> RecordChangeRecord:
    return detached(RecordChangeRecord, row, side=Side(row.side), fields=row.fields or {})


__all__ = [
    "INSERTED",
    "MODIFIED",
    "RecordChangeEntry",
    "RecordChangeRecord",
    "Snapshot",
    "bc_id_numbered",
    "job_changes",
    "prune_history",
    "record_changes",
    "record_history",
    "restore_coupling_state",
]
