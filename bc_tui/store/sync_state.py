"""How each coupling was last synchronized: results per direction, modified times and ETags,
snapshots, Skipped and the broken mark (docs/coupling-and-sync.md "What a coupling remembers,
and Skipped"), one coupling at a time or many in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import peewee

from bc_tui.domain.skipped import should_skip
from bc_tui.store.coupling_rows import coupling_record, row_for_update, rows_for_update, update_ids
from bc_tui.store.database import atomic, database_proxy
from bc_tui.store.fields import utc_now
from bc_tui.store.models import Coupling
from bc_tui.store.records import (
    CouplingRecord,
    Side,
    SyncResult,
    SyncResultUpdate,
    SyncStateRefresh,
    direction_prefix,
)


def record_sync_result(update: SyncResultUpdate) -> CouplingRecord:
    """Remember how one synchronization of a coupling in ``update.direction`` (send or get) went.

    Success: stores the new modified times and ETags (a time only ever moves forward; an older
    one and its ETag are ignored), the snapshot when given, and clears Skipped and the
    broken mark; a conflict remembered in the other direction is settled too (docs/coupling-and-sync.md
    "A conflict's state"). Failure or conflict: keeps the sync state; when ``error`` is identical to the
    previous failure or conflict in that direction, the coupling becomes Skipped
    (docs/coupling-and-sync.md "What a coupling remembers, and Skipped") — unless ``may_skip`` is
    False, which callers pass for transient errors (throttling, timeouts, 5xx) they retry themselves.
    For many couplings at once use :func:`record_sync_results`.
    """
    with atomic():
        row = row_for_update(update.coupling_id)
        _apply_sync_result(row, update, utc_now())
        row.save()
    return coupling_record(row)


def record_sync_results(items: Sequence[SyncResultUpdate]) -> list[CouplingRecord]:
    """:func:`record_sync_result` for many couplings at once, in one transaction.

    Same rules, applied in input order (one coupling may appear more than once, e.g. send and
    get of a merge); returns the coupling as it stood after each item, in input order. Reads the
    couplings with one query per 500 and writes them back with one prepared statement, so a
    chunk of a large synchronization costs a few statements instead of two per record. Raises
    :class:`NotFoundError` (and stores nothing) when one of the couplings no longer exists.
    """
    return _apply_in_bulk(items, _apply_sync_result)


def refresh_sync_states(items: Sequence[SyncStateRefresh]) -> list[CouplingRecord]:
    """Move the stored times/ETags (and snapshot) of *unchanged* couplings forward without a
    sync result (docs/coupling-and-sync.md "Synchronizing modified records" step 2); same ordering
    rules and costs as :func:`record_sync_results`."""
    return _apply_in_bulk(items, _apply_refresh)


def mark_broken(coupling_id: int, deleted_side: Side) -> CouplingRecord:
    """Mark a coupling broken: the record on ``deleted_side`` has been deleted.

    See docs/coupling-and-sync.md "Deleted records and broken couplings".
    """
    with atomic():
        row = row_for_update(coupling_id)
        row.deleted_side = Side(deleted_side).value
        row.updated_at = utc_now()
        row.save()
    return coupling_record(row)


def clear_skipped(coupling_ids: Iterable[int] | None = None, *, mapping: str | None = None) -> int:
    """Retry / Retry All: clear Skipped on the given couplings, or on all (of ``mapping``).

    The remembered error messages are cleared too, so a retried record must fail identically
    twice more before it is skipped again. Returns how many couplings were retried.
    """
    changes = {"skipped": False, "to_dataverse_error": None, "from_dataverse_error": None}
    if coupling_ids is not None:
        return update_ids(list(coupling_ids), **changes)
    query = Coupling.update(updated_at=utc_now(), **changes).where(Coupling.skipped == True)  # noqa: E712
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    retried: int = query.execute()
    return retried


def _advance(row: Coupling, side: str, modified_at: datetime | None, etag: str | None) -> None:
    """Store a side's modified time and ETag unless the time would move backwards."""
    stored = getattr(row, f"{side}_modified_at")
    if modified_at is not None:
        if modified_at.tzinfo is None:
            raise ValueError(f"naive datetime {modified_at!r}: pass a timezone-aware modified time")
        if stored is not None and modified_at < stored:
            return  # an older read arriving late must not undo a newer one
        setattr(row, f"{side}_modified_at", modified_at)
    if etag is not None:
        setattr(row, f"{side}_etag", etag)


def _apply_sync_result(row: Coupling, update: SyncResultUpdate, now: datetime) -> None:
    """The rules of :func:`record_sync_result`, applied to a loaded row (not saved)."""
    prefix = direction_prefix(update.direction)
    result = SyncResult(update.result)
    error = update.error
    if result is SyncResult.SUCCESS:
        _advance(row, "bc", update.bc_modified_at, update.bc_etag)
        _advance(row, "dataverse", update.dataverse_modified_at, update.dataverse_etag)
        if update.snapshot is not None:
            row.snapshot = update.snapshot
        row.skipped = False
        row.deleted_side = None
        error = None
        _settle_conflict(row, _other_prefix(prefix), update.job_id, now)
    else:
        failed_before = getattr(row, f"{prefix}_result") in (SyncResult.FAILURE.value, SyncResult.CONFLICT.value)
        previous = getattr(row, f"{prefix}_error") if failed_before else None
        row.skipped = row.skipped or should_skip(error, previous, transient=not update.may_skip)
    setattr(row, f"{prefix}_result", result.value)
    setattr(row, f"{prefix}_job_id", update.job_id)
    setattr(row, f"{prefix}_error", error)
    setattr(row, f"{prefix}_at", now)
    row.updated_at = now


def _other_prefix(prefix: str) -> str:
    return "from_dataverse" if prefix == "to_dataverse" else "to_dataverse"


def _settle_conflict(row: Coupling, prefix: str, job_id: int | None, now: datetime) -> None:
    """A conflict belongs to the pair, not to one direction: the success that settled it in
    one direction settles it in the other too (docs/coupling-and-sync.md "A conflict's state"). A plain
    failure stays: it says something about that direction's values, tried again until it succeeds."""
    if getattr(row, f"{prefix}_result") != SyncResult.CONFLICT.value:
        return
    setattr(row, f"{prefix}_result", SyncResult.SUCCESS.value)
    setattr(row, f"{prefix}_job_id", job_id)
    setattr(row, f"{prefix}_error", None)
    setattr(row, f"{prefix}_at", now)


def _apply_refresh(row: Coupling, refresh: SyncStateRefresh, now: datetime) -> None:
    """The rules of :func:`refresh_sync_states`, applied to a loaded row (not saved)."""
    _advance(row, "bc", refresh.bc_modified_at, refresh.bc_etag)
    _advance(row, "dataverse", refresh.dataverse_modified_at, refresh.dataverse_etag)
    if refresh.snapshot is not None:
        row.snapshot = refresh.snapshot
    row.updated_at = now


class _StateColumn(Protocol):
    """What the bulk write needs of a peewee field; peewee's stubs leave ``db_value`` unannotated,
    so naming its shape here keeps the calls below type-checked."""

    name: str
    column_name: str

    def db_value(self, value: Any) -> Any: ...


# The columns the sync-state rules above may change: the bulk write sets exactly these.
_SYNC_STATE_FIELDS: tuple[_StateColumn, ...] = (
    Coupling.bc_modified_at,
    Coupling.bc_etag,
    Coupling.dataverse_modified_at,
    Coupling.dataverse_etag,
    Coupling.snapshot,
    Coupling.skipped,
    Coupling.deleted_side,
    Coupling.to_dataverse_result,
    Coupling.to_dataverse_job_id,
    Coupling.to_dataverse_error,
    Coupling.to_dataverse_at,
    Coupling.from_dataverse_result,
    Coupling.from_dataverse_job_id,
    Coupling.from_dataverse_error,
    Coupling.from_dataverse_at,
    Coupling.updated_at,
)


def _apply_in_bulk(items: Sequence[Any], apply: Callable[[Coupling, Any, datetime], None]) -> list[CouplingRecord]:
    """Load the couplings of ``items`` (each has a ``coupling_id``), ``apply`` each item in order,
    and write the changed rows back, all in one transaction."""
    if not items:
        return []
    now = utc_now()
    with atomic():
        rows = rows_for_update([item.coupling_id for item in items])
        records = []
        for item in items:
            row = rows[item.coupling_id]
            apply(row, item, now)
            records.append(coupling_record(row))
        _write_sync_state(list(rows.values()))
    return records


# peewee's own wrapper for the statements it runs; its stubs leave the module-level instance out.
_PEEWEE_ERRORS: peewee.ExceptionWrapper = peewee.__exception_wrapper__  # type: ignore[attr-defined]


def _write_sync_state(rows: Sequence[Coupling]) -> None:
    """Write the sync-state columns of ``rows`` with one prepared UPDATE run for all of them.

    Building peewee's SQL per row costs far more than the database's work, so the statement is
    built once and the values go through each field's own conversion (``db_value``), exactly as
    ``save()`` would store them.
    """
    db = database_proxy.obj
    assignments = ", ".join(f'"{field.column_name}" = {db.param}' for field in _SYNC_STATE_FIELDS)
    sql = f'UPDATE "{Coupling._meta.table_name}" SET {assignments} WHERE "id" = {db.param}'
    params = [[field.db_value(getattr(row, field.name)) for field in _SYNC_STATE_FIELDS] + [row.id] for row in rows]
    # peewee's wrapper turns driver errors into peewee's, as for every other statement.
    with _PEEWEE_ERRORS:
        cursor = db.cursor()
        if _is_psycopg2(cursor):
            from psycopg2.extras import execute_batch  # optional dependency (the postgres extra)

            # psycopg2's executemany is one round trip per row; execute_batch sends pages of them.
            execute_batch(cursor, sql, params, page_size=_PG_PAGE_SIZE)
        else:
            cursor.executemany(sql, params)


_PG_PAGE_SIZE = 250


def _is_psycopg2(cursor: Any) -> bool:
    return type(cursor).__module__.startswith("psycopg2")
