"""Between the coupling tables and the plain records: turning rows into records, and the
chunked reads, locks, deletes and retries that every coupling module shares.

Ids go to the database in chunks of :data:`CHUNK_SIZE`, well under SQLite's and PostgreSQL's
parameter limits, so a call about 10,000 records stays a few queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import peewee

from bc_tui.store.bulk import insert_rows
from bc_tui.store.database import is_sqlite
from bc_tui.store.detach import detached
from bc_tui.store.errors import NotFoundError
from bc_tui.store.fields import utc_now
from bc_tui.store.models import Coupling, CreateIntent
from bc_tui.store.records import CouplingRecord, CreateIntentRecord, Side, SyncResult, normalize_id

_T = TypeVar("_T")

# Ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
CHUNK_SIZE = 500


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most :data:`CHUNK_SIZE`, one query each."""
    for start in range(0, len(items), CHUNK_SIZE):
        yield items[start : start + CHUNK_SIZE]


def unique_ids(ids: Iterable[str]) -> list[str]:
    """``ids`` normalized, each once, in first-seen order."""
    return list(dict.fromkeys(normalize_id(value) for value in ids))


def coupling_record(row: Coupling) -> CouplingRecord:
    """The coupling row as a plain record, detached from the database."""
    return detached(
        CouplingRecord,
        row,
        to_dataverse_result=SyncResult(row.to_dataverse_result) if row.to_dataverse_result else None,
        from_dataverse_result=SyncResult(row.from_dataverse_result) if row.from_dataverse_result else None,
        skipped=bool(row.skipped),
        deleted_side=Side(row.deleted_side) if row.deleted_side else None,
        snapshot=row.snapshot or {},
    )


def couplings_in(mapping: str, column: str, ids: Sequence[str]) -> list[Coupling]:
    """The coupling rows of ``mapping`` whose ``column`` (``"bc_id"``, ``"dataverse_id"``) is one
    of ``ids`` (at most :data:`CHUNK_SIZE`, normalized): one query with the ids as parameters,
    written out once rather than rendered value by value by peewee's query builder."""
    return list(Coupling.raw(_select_in("*", column, len(ids)), mapping, *ids))


def _select_in(what: str, column: str, count: int) -> str:
    param = Coupling._meta.database.param
    marks = ", ".join([param] * count)
    return f'SELECT {what} FROM "{Coupling._meta.table_name}" WHERE "mapping" = {param} AND "{column}" IN ({marks})'


def intent_record(row: CreateIntent) -> CreateIntentRecord:
    """The create intent row as a plain record."""
    return detached(CreateIntentRecord, row, source_side=Side(row.source_side))


def row_for_update(coupling_id: int) -> Coupling:
    """The coupling row, locked for this transaction on PostgreSQL; NotFoundError when it is gone."""
    return rows_for_update([coupling_id])[coupling_id]


def rows_for_update(coupling_ids: Sequence[int]) -> dict[int, Coupling]:
    """The rows of ``coupling_ids`` (locked on PostgreSQL), one query per 500 ids.

    SQLite has one writer anyway; PostgreSQL needs the row lock so two writers do not both
    read the old state. Raises NotFoundError when one of them no longer exists.
    """
    wanted = list(dict.fromkeys(coupling_ids))
    rows: dict[int, Coupling] = {}
    for chunk in chunks(wanted):
        query = Coupling.select().where(Coupling.id.in_(chunk))
        if not is_sqlite():
            query = query.for_update()
        rows.update((row.id, row) for row in query)
    missing = next((coupling_id for coupling_id in wanted if coupling_id not in rows), None)
    if missing is not None:
        raise NotFoundError(f"The coupling {missing} no longer exists; it may have been deleted meanwhile.")
    return rows


def delete_ids(ids: Sequence[int]) -> None:
    """Delete the couplings with these ids (the records themselves are untouched)."""
    for chunk in chunks(list(ids)):
        Coupling.delete().where(Coupling.id.in_(chunk)).execute()


def update_ids(ids: Sequence[int], **changes: Any) -> int:
    """Set ``changes`` (and ``updated_at``) on the couplings with these ids; returns how many changed."""
    count = 0
    for chunk in chunks(ids):
        count += Coupling.update(updated_at=utc_now(), **changes).where(Coupling.id.in_(chunk)).execute()
    return count


#: The columns :func:`insert_new_couplings` writes; every other one starts NULL.
_NEW_COUPLING_COLUMNS = (
    "mapping",
    "bc_id",
    "dataverse_id",
    "bc_number",
    "display_name",
    "skipped",
    "created_at",
    "updated_at",
)


def insert_new_couplings(
    mapping: str, rows: Sequence[tuple[str, str, str | None, str | None]]
) -> dict[str, CouplingRecord]:
    """Insert new couplings ``(bc_id, dataverse_id, bc_number, display_name)`` (normalized ids,
    checked by the caller) in the caller's transaction, one multi-row INSERT per 500 (store/bulk.py).

    Returns the new couplings by BC id: only their ids are read back, the rest is what was written."""
    now = Coupling.created_at.db_value(utc_now())
    created_at = Coupling.created_at.python_value(now)  # as it reads back
    not_skipped = Coupling.skipped.db_value(False)  # type: ignore[no-untyped-call]
    made: dict[str, CouplingRecord] = {}
    for chunk in chunks(rows):
        values = [(mapping, bc, dv, number, name, not_skipped, now, now) for bc, dv, number, name in chunk]
        insert_rows(Coupling, _NEW_COUPLING_COLUMNS, values)
        wanted = [bc for bc, *_ in chunk]
        cursor = Coupling._meta.database.execute_sql(
            _select_in('"bc_id", "id"', "bc_id", len(wanted)), [mapping, *wanted]
        )
        ids: dict[str, int] = dict(cursor.fetchall())
        for bc, dv, number, name in chunk:
            made[bc] = CouplingRecord(
                id=ids[bc],
                mapping=mapping,
                bc_id=bc,
                dataverse_id=dv,
                bc_number=number,
                display_name=name,
                created_at=created_at,
                updated_at=created_at,
            )
    return made


def again_after_race(work: Callable[[], _T]) -> _T:
    """Run ``work`` (a read-check-insert transaction); run it once more when the insert hit a
    unique key another process inserted at the same moment. On PostgreSQL both transactions can
    pass the check before either inserts; the second run sees the other's row and answers as if
    it had come first (SQLite's write lock serializes the two, so there it never happens)."""
    try:
        return work()
    except peewee.IntegrityError:
        return work()
