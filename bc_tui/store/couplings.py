"""Couplings: which Business Central record is coupled to which Dataverse record, and how each
was last synchronized (docs/coupling-and-sync.md "What a coupling remembers, and Skipped"). Also the create intents that make "create the
counterpart and couple it" safe to interrupt and re-run.

Every function returns plain dataclasses; ids are normalized to lower-case GUIDs without braces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import peewee

from bc_tui.domain.mappings import SyncDirection
from bc_tui.domain.skipped import should_skip
from bc_tui.store.database import atomic, database_proxy, is_sqlite
from bc_tui.store.errors import (
    BcRecordAlreadyCoupledError,
    CouplingError,
    DataverseRecordAlreadyCoupledError,
    NotFoundError,
)
from bc_tui.store.fields import utc_now
from bc_tui.store.models import Coupling, CreateIntent

_T = TypeVar("_T")

# Ids per IN (...) query: well under SQLite's and PostgreSQL's parameter limits.
CHUNK_SIZE = 500


class Side(StrEnum):
    """One side of a coupling."""

    BC = "bc"
    DATAVERSE = "dataverse"


class SyncResult(StrEnum):
    """The outcome of the last synchronization of a coupling in one direction."""

    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class CouplingRecord:
    """One coupling and its synchronization state, detached from the database."""

    id: int
    mapping: str
    bc_id: str
    dataverse_id: str
    bc_number: str | None = None
    display_name: str | None = None
    bc_modified_at: datetime | None = None
    bc_etag: str | None = None
    dataverse_modified_at: datetime | None = None
    dataverse_etag: str | None = None
    to_dataverse_result: SyncResult | None = None
    to_dataverse_job_id: int | None = None
    to_dataverse_error: str | None = None
    to_dataverse_at: datetime | None = None
    from_dataverse_result: SyncResult | None = None
    from_dataverse_job_id: int | None = None
    from_dataverse_error: str | None = None
    from_dataverse_at: datetime | None = None
    skipped: bool = False
    deleted_side: Side | None = None
    snapshot: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def last_result(self, direction: SyncDirection) -> SyncResult | None:
        """The result of the last synchronization in ``direction`` (send or get)."""
        return getattr(self, f"{_prefix(direction)}_result")

    @property
    def failed(self) -> bool:
        """True when the last synchronization in either direction failed."""
        return SyncResult.FAILURE in (self.to_dataverse_result, self.from_dataverse_result)

    @property
    def broken(self) -> bool:
        """True when one of the coupled records has been deleted (docs/coupling-and-sync.md "Deleted records and broken couplings")."""
        return self.deleted_side is not None


@dataclass(frozen=True)
class CreateIntentRecord:
    """A counterpart creation that was started: reuse ``planned_id`` when running it again."""

    id: int
    mapping: str
    source_side: Side
    source_id: str
    planned_id: str
    destination_id: str | None
    state: str  # "pending": maybe not created yet; "created": exists as destination_id
    job_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class SyncResultUpdate:
    """One synchronization result to store with :func:`record_sync_results`.

    The fields mean what the keyword arguments of :func:`record_sync_result` mean.
    """

    coupling_id: int
    direction: SyncDirection
    result: SyncResult
    job_id: int | None = None
    error: str | None = None
    bc_modified_at: datetime | None = None
    bc_etag: str | None = None
    dataverse_modified_at: datetime | None = None
    dataverse_etag: str | None = None
    snapshot: dict[str, dict[str, Any]] | None = None
    may_skip: bool = True


@dataclass(frozen=True)
class SyncStateRefresh:
    """Times, ETags and snapshot of an *unchanged* coupling, for :func:`refresh_sync_states`."""

    coupling_id: int
    bc_modified_at: datetime | None = None
    bc_etag: str | None = None
    dataverse_modified_at: datetime | None = None
    dataverse_etag: str | None = None
    snapshot: dict[str, dict[str, Any]] | None = None


# --- reading ---------------------------------------------------------------------------------


def get_coupling(coupling_id: int) -> CouplingRecord | None:
    """The coupling with this id, or None."""
    row = Coupling.get_or_none(Coupling.id == coupling_id)
    return _record(row) if row else None


def get_by_bc_id(mapping: str, bc_id: str) -> CouplingRecord | None:
    """The coupling of the BC record ``bc_id`` (its SystemId) in ``mapping``, or None."""
    row = Coupling.get_or_none((Coupling.mapping == mapping) & (Coupling.bc_id == normalize_id(bc_id)))
    return _record(row) if row else None


def get_by_dataverse_id(mapping: str, dataverse_id: str) -> CouplingRecord | None:
    """The coupling of the Dataverse record ``dataverse_id`` in ``mapping``, or None."""
    query = (Coupling.mapping == mapping) & (Coupling.dataverse_id == normalize_id(dataverse_id))
    row = Coupling.get_or_none(query)
    return _record(row) if row else None


def list_couplings(
    mapping: str,
    *,
    bc_ids: Iterable[str] | None = None,
    dataverse_ids: Iterable[str] | None = None,
) -> list[CouplingRecord]:
    """The couplings of ``mapping`` for many records at once (one query per 500 ids).

    With neither ``bc_ids`` nor ``dataverse_ids``: all couplings of the mapping. Ids without a
    coupling are simply absent from the result.
    """
    if bc_ids is None and dataverse_ids is None:
        return list(iter_couplings(mapping))
    found: list[CouplingRecord] = []
    for column, ids in ((Coupling.bc_id, bc_ids), (Coupling.dataverse_id, dataverse_ids)):
        for chunk in _chunks(_unique_ids(ids or ())):
            rows = Coupling.select().where((Coupling.mapping == mapping) & column.in_(chunk))
            found.extend(_record(row) for row in rows)
    return _dedupe(found)


def couplings_by_bc_id(mapping: str, bc_ids: Iterable[str]) -> dict[str, CouplingRecord]:
    """Batch lookup keyed by BC SystemId (normalized); uncoupled ids are absent."""
    return {record.bc_id: record for record in list_couplings(mapping, bc_ids=bc_ids)}


def couplings_by_dataverse_id(mapping: str, dataverse_ids: Iterable[str]) -> dict[str, CouplingRecord]:
    """Batch lookup keyed by Dataverse id (normalized); uncoupled ids are absent."""
    return {record.dataverse_id: record for record in list_couplings(mapping, dataverse_ids=dataverse_ids)}


def iter_couplings(mapping: str, *, batch_size: int = CHUNK_SIZE) -> Iterator[CouplingRecord]:
    """Every coupling of ``mapping`` in id order, read a batch at a time.

    Each batch is its own short query, so writing couplings while iterating is safe.
    """
    last_id = 0
    while True:
        rows = list(
            Coupling.select()
            .where((Coupling.mapping == mapping) & (Coupling.id > last_id))
            .order_by(Coupling.id)
            .limit(batch_size)
        )
        yield from (_record(row) for row in rows)
        if len(rows) < batch_size:
            return
        last_id = rows[-1].id


def count_couplings(mapping: str) -> int:
    """How many records of ``mapping`` are coupled."""
    return Coupling.select().where(Coupling.mapping == mapping).count()


def find_orphans(
    mapping: str,
    *,
    existing_bc_ids: Iterable[str] | None = None,
    existing_dataverse_ids: Iterable[str] | None = None,
) -> list[CouplingRecord]:
    """Couplings whose BC (or Dataverse) record is not among the ids that exist ("Find for Deleted").

    Pass the ids of every record that exists on a side; couplings pointing elsewhere are stale.
    """
    bc = None if existing_bc_ids is None else set(_unique_ids(existing_bc_ids))
    dataverse = None if existing_dataverse_ids is None else set(_unique_ids(existing_dataverse_ids))
    return [
        record
        for record in iter_couplings(mapping)
        if (bc is not None and record.bc_id not in bc)
        or (dataverse is not None and record.dataverse_id not in dataverse)
    ]


# --- coupling and uncoupling -----------------------------------------------------------------


def couple(
    mapping: str,
    bc_id: str,
    dataverse_id: str,
    *,
    bc_number: str | None = None,
    display_name: str | None = None,
    replace: bool = False,
) -> CouplingRecord:
    """Couple a BC record with a Dataverse record; coupling is one-to-one.

    Coupling the same pair again returns the existing coupling unchanged. When either record is
    already coupled to another one, raises :class:`BcRecordAlreadyCoupledError` or
    :class:`DataverseRecordAlreadyCoupledError` (``error.existing`` is the coupling in the way);
    with ``replace=True`` those couplings are removed first — for a stale coupling whose other
    record no longer exists, or when the user chose to re-couple. The new coupling starts with no
    sync state.
    """
    bc_id, dataverse_id = normalize_id(bc_id), normalize_id(dataverse_id)
    return _again_after_race(lambda: _couple(mapping, bc_id, dataverse_id, bc_number, display_name, replace))


def _couple(
    mapping: str, bc_id: str, dataverse_id: str, bc_number: str | None, display_name: str | None, replace: bool
) -> CouplingRecord:
    with atomic():
        holders = [
            _record(row)
            for row in Coupling.select().where(
                (Coupling.mapping == mapping) & ((Coupling.bc_id == bc_id) | (Coupling.dataverse_id == dataverse_id))
            )
        ]
        by_bc = next((c for c in holders if c.bc_id == bc_id), None)
        by_dataverse = next((c for c in holders if c.dataverse_id == dataverse_id), None)
        if by_bc is not None and by_bc.dataverse_id == dataverse_id:
            return by_bc
        if replace:
            _delete_ids([c.id for c in (by_bc, by_dataverse) if c is not None])
        else:
            _refuse_taken(mapping, by_bc, by_dataverse)
        row = Coupling.create(
            mapping=mapping,
            bc_id=bc_id,
            dataverse_id=dataverse_id,
            bc_number=bc_number,
            display_name=display_name,
        )
    return _record(row)


def couple_many(mapping: str, pairs: Iterable[tuple[str, str]]) -> list[CouplingRecord | CouplingError]:
    """Couple many ``(bc_id, dataverse_id)`` pairs at once (match-based coupling, bulk creates).

    Same rules as :func:`couple` without ``replace``: the result lists, in input order, the
    coupling made (or already there) or the :class:`CouplingError` explaining why a pair was
    refused — also when two pairs of the same call claim one record. A few queries per 500 pairs.
    """
    wanted = [(normalize_id(bc), normalize_id(dv)) for bc, dv in pairs]
    return _again_after_race(lambda: _couple_many(mapping, wanted))


def _couple_many(mapping: str, wanted: list[tuple[str, str]]) -> list[CouplingRecord | CouplingError]:
    with atomic():
        by_bc = couplings_by_bc_id(mapping, [bc for bc, _ in wanted])
        by_dataverse = couplings_by_dataverse_id(mapping, [dv for _, dv in wanted])
        # Two statements, two snapshots on PostgreSQL (READ COMMITTED): a coupling another process
        # committed between them is seen by one only. Each row read is real, so let both views hold
        # it; otherwise the same pair, made by the other process, would be refused as "taken".
        for record in list(by_dataverse.values()):
            by_bc.setdefault(record.bc_id, record)
        for record in list(by_bc.values()):
            by_dataverse.setdefault(record.dataverse_id, record)
        claimed_bc: dict[str, CouplingRecord] = {}
        claimed_dataverse: dict[str, CouplingRecord] = {}
        outcomes: list[CouplingRecord | CouplingError | None] = []
        for bc_id, dataverse_id in wanted:
            existing = by_bc.get(bc_id)
            if existing is not None and existing.dataverse_id == dataverse_id:
                outcomes.append(existing)
                continue
            try:
                _refuse_taken(
                    mapping,
                    existing or claimed_bc.get(bc_id),
                    by_dataverse.get(dataverse_id) or claimed_dataverse.get(dataverse_id),
                )
            except CouplingError as refused:
                outcomes.append(refused)
                continue
            placeholder = CouplingRecord(id=0, mapping=mapping, bc_id=bc_id, dataverse_id=dataverse_id)
            claimed_bc[bc_id] = claimed_dataverse[dataverse_id] = placeholder
            outcomes.append(None)
        new_pairs = [pair for pair, outcome in zip(wanted, outcomes) if outcome is None]
        for chunk in _chunks(new_pairs):
            now = utc_now()
            rows = [
                {"mapping": mapping, "bc_id": bc, "dataverse_id": dv, "created_at": now, "updated_at": now}
                for bc, dv in chunk
            ]
            Coupling.insert_many(rows).execute()
        created = couplings_by_bc_id(mapping, [bc for bc, _ in new_pairs])
    return [outcome if outcome is not None else created[bc] for (bc, _), outcome in zip(wanted, outcomes)]


def remove_coupling(coupling_id: int) -> CouplingRecord | None:
    """Delete one coupling by id; returns what was removed (None if it was already gone)."""
    with atomic():
        record = get_coupling(coupling_id)
        _delete_ids([coupling_id])
    return record


def remove_couplings(
    mapping: str,
    *,
    bc_ids: Iterable[str] | None = None,
    dataverse_ids: Iterable[str] | None = None,
    all_of_mapping: bool = False,
) -> list[CouplingRecord]:
    """Delete couplings of ``mapping`` (the records themselves are untouched); return the removed.

    Name the records by ``bc_ids`` and/or ``dataverse_ids``, or pass ``all_of_mapping=True``.
    """
    with atomic():
        if all_of_mapping:
            removed = list(iter_couplings(mapping))
        else:
            removed = list_couplings(mapping, bc_ids=bc_ids or (), dataverse_ids=dataverse_ids or ())
        _delete_ids([record.id for record in removed])
    return removed


def update_cached_names(coupling_id: int, *, bc_number: str | None, display_name: str | None) -> None:
    """Refresh the BC number and display name cached for lists."""
    Coupling.update(bc_number=bc_number, display_name=display_name, updated_at=utc_now()).where(
        Coupling.id == coupling_id
    ).execute()


# --- synchronization state ---------------------------------------------------------------------


def record_sync_result(
    coupling_id: int,
    direction: SyncDirection,
    result: SyncResult,
    *,
    job_id: int | None = None,
    error: str | None = None,
    bc_modified_at: datetime | None = None,
    bc_etag: str | None = None,
    dataverse_modified_at: datetime | None = None,
    dataverse_etag: str | None = None,
    snapshot: dict[str, dict[str, Any]] | None = None,
    may_skip: bool = True,
) -> CouplingRecord:
    """Remember how one synchronization of a coupling in ``direction`` (send or get) went.

    Success: stores the new modified times and ETags (a time only ever moves forward; an older
    one and its ETag are ignored), the snapshot when given, and clears Skipped and the
    broken mark. Failure: keeps the sync state; when ``error`` is identical to the previous
    failure in that direction, the coupling becomes Skipped (docs/coupling-and-sync.md "What a coupling remembers, and Skipped") — unless ``may_skip`` is False,
    which callers pass for transient errors (throttling, timeouts, 5xx) they retry themselves.
    For many couplings at once use :func:`record_sync_results`.
    """
    update = SyncResultUpdate(
        coupling_id,
        direction,
        result,
        job_id=job_id,
        error=error,
        bc_modified_at=bc_modified_at,
        bc_etag=bc_etag,
        dataverse_modified_at=dataverse_modified_at,
        dataverse_etag=dataverse_etag,
        snapshot=snapshot,
        may_skip=may_skip,
    )
    with atomic():
        row = _row_for_update(coupling_id)
        _apply_sync_result(row, update, utc_now())
        row.save()
    return _record(row)


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
    """Mark a coupling broken: the record on ``deleted_side`` has been deleted (docs/coupling-and-sync.md "Deleted records and broken couplings")."""
    with atomic():
        row = _row_for_update(coupling_id)
        row.deleted_side = Side(deleted_side).value
        row.updated_at = utc_now()
        row.save()
    return _record(row)


def clear_skipped(coupling_ids: Iterable[int] | None = None, *, mapping: str | None = None) -> int:
    """Retry / Retry All: clear Skipped on the given couplings, or on all (of ``mapping``).

    The remembered error messages are cleared too, so a retried record must fail identically
    twice more before it is skipped again. Returns how many couplings were retried.
    """
    changes = {"skipped": False, "to_dataverse_error": None, "from_dataverse_error": None}
    if coupling_ids is not None:
        return _update_ids(list(coupling_ids), **changes)
    query = Coupling.update(updated_at=utc_now(), **changes).where(Coupling.skipped == True)  # noqa: E712
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    return query.execute()


def problem_couplings(mapping: str | None = None) -> list[CouplingRecord]:
    """Couplings that are skipped, failed in either direction, or broken, oldest problem first."""
    failure = SyncResult.FAILURE.value
    query = Coupling.select().where(
        (Coupling.skipped == True)  # noqa: E712
        | (Coupling.to_dataverse_result == failure)
        | (Coupling.from_dataverse_result == failure)
        | Coupling.deleted_side.is_null(False)
    )
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    return [_record(row) for row in query.order_by(Coupling.updated_at, Coupling.id)]


# --- create intents ----------------------------------------------------------------------------


def begin_create_intent(
    mapping: str,
    source_side: Side,
    source_id: str,
    planned_id: str,
    *,
    job_id: int | None = None,
) -> CreateIntentRecord:
    """Record, *before* creating it, that the counterpart of ``source_id`` is about to be created.

    ``planned_id`` is the id the new record will get: a Dataverse GUID the client generates, or
    the BC number it will ask for. If an intent for this record already exists (a previous run
    was interrupted), that one is returned unchanged: the caller must reuse its ``planned_id``
    and first check whether that record already exists, so a re-run never creates a duplicate.
    """
    source_id = normalize_id(source_id)
    side = Side(source_side).value

    def begin() -> CreateIntentRecord:
        with atomic():
            existing = _intent_row(mapping, side, source_id)
            if existing is not None:
                return _intent(existing)
            row = CreateIntent.create(
                mapping=mapping, source_side=side, source_id=source_id, planned_id=planned_id, job_id=job_id
            )
        return _intent(row)

    return _again_after_race(begin)


def complete_intent(
    intent_id: int,
    *,
    bc_id: str,
    dataverse_id: str,
    bc_number: str | None = None,
    display_name: str | None = None,
) -> CouplingRecord:
    """Couple the source with its newly created counterpart and forget the intent, atomically."""
    with atomic():
        row = CreateIntent.get_or_none(CreateIntent.id == intent_id)
        if row is None:
            raise NotFoundError(f"The create intent {intent_id} no longer exists; it was completed or abandoned.")
        record = couple(row.mapping, bc_id, dataverse_id, bc_number=bc_number, display_name=display_name)
        row.delete_instance()
    return record


def abandon_intent(intent_id: int) -> None:
    """Forget an intent whose create definitely did not happen (e.g. the service refused it)."""
    CreateIntent.delete().where(CreateIntent.id == intent_id).execute()


def pending_intents(mapping: str | None = None) -> list[CreateIntentRecord]:
    """Intents left open by an interrupted run, oldest first: finish them before creating more."""
    query = CreateIntent.select().order_by(CreateIntent.created_at, CreateIntent.id)
    if mapping is not None:
        query = query.where(CreateIntent.mapping == mapping)
    return [_intent(row) for row in query]


# --- helpers -----------------------------------------------------------------------------------


def normalize_id(value: str) -> str:
    """A GUID as stored: lower case, no braces or surrounding blanks."""
    return value.strip().strip("{}").lower()


def _prefix(direction: SyncDirection) -> str:
    direction = SyncDirection(direction)
    if direction is SyncDirection.MERGE:
        raise ValueError("a sync result is recorded per direction: to-dataverse or from-dataverse, not merge")
    return "to_dataverse" if direction is SyncDirection.TO_DATAVERSE else "from_dataverse"


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
    prefix = _prefix(update.direction)
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
    else:
        failed_before = getattr(row, f"{prefix}_result") == SyncResult.FAILURE.value
        previous = getattr(row, f"{prefix}_error") if failed_before else None
        row.skipped = row.skipped or should_skip(error, previous, transient=not update.may_skip)
    setattr(row, f"{prefix}_result", result.value)
    setattr(row, f"{prefix}_job_id", update.job_id)
    setattr(row, f"{prefix}_error", error)
    setattr(row, f"{prefix}_at", now)
    row.updated_at = now


def _apply_refresh(row: Coupling, refresh: SyncStateRefresh, now: datetime) -> None:
    """The rules of :func:`refresh_sync_states`, applied to a loaded row (not saved)."""
    _advance(row, "bc", refresh.bc_modified_at, refresh.bc_etag)
    _advance(row, "dataverse", refresh.dataverse_modified_at, refresh.dataverse_etag)
    if refresh.snapshot is not None:
        row.snapshot = refresh.snapshot
    row.updated_at = now


# The columns the sync-state rules above may change: the bulk write sets exactly these.
_SYNC_STATE_FIELDS: tuple[peewee.Field, ...] = (
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
        rows = _rows_for_update([item.coupling_id for item in items])
        records = []
        for item in items:
            row = rows[item.coupling_id]
            apply(row, item, now)
            records.append(_record(row))
        _write_sync_state(list(rows.values()))
    return records


def _rows_for_update(coupling_ids: Sequence[int]) -> dict[int, Coupling]:
    """The rows of ``coupling_ids`` (locked on PostgreSQL), one query per 500 ids."""
    wanted = list(dict.fromkeys(coupling_ids))
    rows: dict[int, Coupling] = {}
    for chunk in _chunks(wanted):
        query = Coupling.select().where(Coupling.id.in_(chunk))
        if not is_sqlite():
            query = query.for_update()
        rows.update((row.id, row) for row in query)
    missing = next((coupling_id for coupling_id in wanted if coupling_id not in rows), None)
    if missing is not None:
        raise NotFoundError(f"The coupling {missing} no longer exists; it may have been deleted meanwhile.")
    return rows


def _write_sync_state(rows: Sequence[Coupling]) -> None:
    """Write the sync-state columns of ``rows`` with one prepared UPDATE run for all of them.

    Building peewee's SQL per row costs far more than the database's work, so the statement is
    built once and the values go through each field's own conversion (``db_value``), exactly as
    ``save()`` would store them.
    """
    db = database_proxy.obj
    assignments = ", ".join(f'"{field.column_name}" = {db.param}' for field in _SYNC_STATE_FIELDS)
    sql = f'UPDATE "{Coupling._meta.table_name}" SET {assignments} WHERE "id" = {db.param}'
    params = [
        [field.db_value(getattr(row, field.name)) for field in _SYNC_STATE_FIELDS] + [row.id] for row in rows
    ]
    # peewee's wrapper turns driver errors into peewee's, as for every other statement.
    with peewee.__exception_wrapper__:
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


def _row_for_update(coupling_id: int) -> Coupling:
    query = Coupling.select().where(Coupling.id == coupling_id)
    if not is_sqlite():
        query = query.for_update()  # SQLite has one writer anyway; PostgreSQL needs the row lock
    row = query.first()
    if row is None:
        raise NotFoundError(f"The coupling {coupling_id} no longer exists; it may have been deleted meanwhile.")
    return row


def _refuse_taken(mapping: str, by_bc: CouplingRecord | None, by_dataverse: CouplingRecord | None) -> None:
    if by_bc is not None:
        raise BcRecordAlreadyCoupledError(
            f"The Business Central record {_describe(by_bc.bc_number, by_bc.bc_id)} is already coupled "
            f"to another Dataverse record in {mapping}; delete that coupling first.",
            by_bc,
        )
    if by_dataverse is not None:
        raise DataverseRecordAlreadyCoupledError(
            f"The Dataverse record {by_dataverse.dataverse_id} is already coupled to the Business Central "
            f"record {_describe(by_dataverse.bc_number, by_dataverse.bc_id)} in {mapping}; delete that "
            "coupling first.",
            by_dataverse,
        )


def _describe(number: str | None, guid: str) -> str:
    return f"{number} ({guid})" if number else guid


def _delete_ids(ids: Sequence[int]) -> None:
    for chunk in _chunks(list(ids)):
        Coupling.delete().where(Coupling.id.in_(chunk)).execute()


def _update_ids(ids: Sequence[int], **changes: Any) -> int:
    count = 0
    for chunk in _chunks(ids):
        count += Coupling.update(updated_at=utc_now(), **changes).where(Coupling.id.in_(chunk)).execute()
    return count


def _again_after_race(work: Callable[[], _T]) -> _T:
    """Run ``work`` (a read-check-insert transaction); run it once more when the insert hit a
    unique key another process inserted at the same moment. On PostgreSQL both transactions can
    pass the check before either inserts; the second run sees the other's row and answers as if
    it had come first (SQLite's write lock serializes the two, so there it never happens)."""
    try:
        return work()
    except peewee.IntegrityError:
        return work()


def _intent_row(mapping: str, side: str, source_id: str) -> CreateIntent | None:
    return CreateIntent.get_or_none(
        (CreateIntent.mapping == mapping) & (CreateIntent.source_side == side) & (CreateIntent.source_id == source_id)
    )


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK_SIZE):
        yield items[start : start + CHUNK_SIZE]


def _unique_ids(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(normalize_id(value) for value in ids))


def _dedupe(records: list[CouplingRecord]) -> list[CouplingRecord]:
    return list({record.id: record for record in records}.values())


def _record(row: Coupling) -> CouplingRecord:
    return CouplingRecord(
        id=row.id,
        mapping=row.mapping,
        bc_id=row.bc_id,
        dataverse_id=row.dataverse_id,
        bc_number=row.bc_number,
        display_name=row.display_name,
        bc_modified_at=row.bc_modified_at,
        bc_etag=row.bc_etag,
        dataverse_modified_at=row.dataverse_modified_at,
        dataverse_etag=row.dataverse_etag,
        to_dataverse_result=SyncResult(row.to_dataverse_result) if row.to_dataverse_result else None,
        to_dataverse_job_id=row.to_dataverse_job_id,
        to_dataverse_error=row.to_dataverse_error,
        to_dataverse_at=row.to_dataverse_at,
        from_dataverse_result=SyncResult(row.from_dataverse_result) if row.from_dataverse_result else None,
        from_dataverse_job_id=row.from_dataverse_job_id,
        from_dataverse_error=row.from_dataverse_error,
        from_dataverse_at=row.from_dataverse_at,
        skipped=bool(row.skipped),
        deleted_side=Side(row.deleted_side) if row.deleted_side else None,
        snapshot=row.snapshot or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _intent(row: CreateIntent) -> CreateIntentRecord:
    return CreateIntentRecord(
        id=row.id,
        mapping=row.mapping,
        source_side=Side(row.source_side),
        source_id=row.source_id,
        planned_id=row.planned_id,
        destination_id=row.destination_id,
        state=row.state,
        job_id=row.job_id,
        created_at=row.created_at,
    )
