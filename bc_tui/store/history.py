"""What each synchronization job overwrote, record by record: the data behind undo and a
record's history (docs/undo-and-history.md).

A job stores its changes with :func:`record_changes` in the transaction that stores its
results, one INSERT per chunk of records; undo reads them back with :func:`job_changes`, the
card and ``bc-tui history`` with :func:`record_history`. Old changes go with
:func:`prune_history`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from bc_tui.store.coupling_rows import coupling_record, row_for_update, rows_for_update
from bc_tui.store.database import atomic, database_proxy
from bc_tui.store.detach import detached
from bc_tui.store.fields import utc_now
from bc_tui.store.models import Coupling, RecordChange
from bc_tui.store.records import CouplingRecord, Side, normalize_id

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
    """Store what a job wrote: one row per entry, one prepared INSERT run for a whole chunk.

    Building peewee's SQL per row would cost more than the database's work (as for the
    couplings' bulk write in ``sync_state``), so each value goes through its field's own
    conversion (``db_value``) into one statement run for all rows.
    """
    if not entries:
        return
    now = utc_now()
    columns = [RecordChange._meta.fields[name] for name in _INSERTED]
    params = [
        [field.db_value(value) for field, value in zip(columns, _values(entry, now), strict=True)] for entry in entries
    ]
    names = ", ".join(f'"{field.column_name}"' for field in columns)
    marks = ", ".join([_param()] * len(columns))
    with atomic():
        _run_many(f'INSERT INTO "{RecordChange._meta.table_name}" ({names}) VALUES ({marks})', params)


#: The columns a change is stored with (the id is the database's).
_INSERTED = (
    "job_id",
    "mapping",
    "coupling_id",
    "bc_id",
    "dataverse_id",
    "side",
    "action",
    "record",
    "fields",
    "snapshot",
    "etag",
    "created_at",
)


def _values(entry: RecordChangeEntry, now: datetime) -> tuple[Any, ...]:
    return (
        entry.job_id,
        entry.mapping,
        entry.coupling_id,
        entry.bc_id,
        entry.dataverse_id,
        Side(entry.side).value,
        entry.action,
        entry.record,
        entry.fields,
        entry.snapshot,
        entry.etag,
        now,
    )


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


@dataclass(frozen=True)
class CouplingRestore:
    """What an undo that wrote ``side`` of a coupling puts back there: that side's new ETag and
    modified time, and the snapshot's labels as ``snapshot`` holds them (None: the coupling had
    no snapshot before the undone job)."""

    coupling_id: int
    side: Side
    etag: str | None
    modified_at: datetime | None
    snapshot: Snapshot | None


def restore_coupling_state(
    coupling_id: int, side: Side, etag: str | None, modified_at: datetime | None, snapshot: Snapshot | None
) -> CouplingRecord:
    """:func:`restore_coupling_states` for one coupling; returns it as it now stands."""
    restore_coupling_states([CouplingRestore(coupling_id, side, etag, modified_at, snapshot)])
    return coupling_record(row_for_update(coupling_id))


def restore_coupling_states(items: Sequence[CouplingRestore]) -> None:
    """After an undo: put back what each coupling remembers (see :class:`CouplingRestore`), so
    that the next synchronization does not take the undo for an edit (docs/undo-and-history.md
    "Undo"). One read per 500 couplings and one prepared UPDATE run for all of them."""
    if not items:
        return
    now = utc_now()
    with atomic():
        rows = rows_for_update([item.coupling_id for item in items])
        for item in items:
            row = rows[item.coupling_id]
            setattr(row, f"{Side(item.side).value}_etag", item.etag)
            if item.modified_at is not None:
                setattr(row, f"{Side(item.side).value}_modified_at", item.modified_at)
            if item.snapshot is None:
                row.snapshot = None
            else:
                merged: Snapshot = {part: dict(values) for part, values in (row.snapshot or {}).items()}
                for part, values in item.snapshot.items():
                    merged.setdefault(part, {}).update(values)
                row.snapshot = merged
            row.updated_at = now
        columns = [Coupling._meta.fields[name] for name in _RESTORED]
        sets = ", ".join(f'"{field.column_name}" = {_param()}' for field in columns)
        params = [[field.db_value(getattr(row, field.name)) for field in columns] + [row.id] for row in rows.values()]
        _run_many(f'UPDATE "{Coupling._meta.table_name}" SET {sets} WHERE "id" = {_param()}', params)


#: The coupling columns an undo puts back.
_RESTORED = ("bc_etag", "bc_modified_at", "dataverse_etag", "dataverse_modified_at", "snapshot", "updated_at")

# peewee's wrapper for the statements it runs; its stubs leave the module-level instance out.
_PEEWEE_ERRORS: peewee.ExceptionWrapper = peewee.__exception_wrapper__  # type: ignore[attr-defined]


def _param() -> str:
    return str(database_proxy.obj.param)


def _run_many(sql: str, params: Sequence[Sequence[Any]]) -> None:
    """Run one statement for many rows: psycopg2's ``execute_batch`` pages (its executemany is a
    round trip per row), SQLite's ``executemany``; driver errors become peewee's, as usual."""
    with _PEEWEE_ERRORS:
        cursor = database_proxy.obj.cursor()
        if type(cursor).__module__.startswith("psycopg2"):
            from psycopg2.extras import execute_batch  # optional dependency (the postgres extra)

            execute_batch(cursor, sql, params, page_size=250)
        else:
            cursor.executemany(sql, params)


def prune_history(before: datetime) -> int:
    """Forget what jobs wrote before ``before`` (one DELETE on an indexed column); how many rows."""
    removed: int = RecordChange.delete().where(RecordChange.created_at < before).execute()
    return removed


def _record(row: RecordChange) -> RecordChangeRecord:
    return detached(RecordChangeRecord, row, side=Side(row.side), fields=row.fields or {})


__all__ = [
    "INSERTED",
    "MODIFIED",
    "CouplingRestore",
    "RecordChangeEntry",
    "RecordChangeRecord",
    "Snapshot",
    "bc_id_numbered",
    "job_changes",
    "prune_history",
    "record_changes",
    "record_history",
    "restore_coupling_state",
    "restore_coupling_states",
]
