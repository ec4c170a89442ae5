"""Reading couplings: one at a time, in batches by record id, all of a table mapping, the
stale ones ("Find for Deleted") and the problem ones (docs/coupling-and-sync.md "What a
coupling remembers, and Skipped").

Every function returns plain records; ids are normalized to lower-case GUIDs without braces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bc_tui.store.coupling_rows import CHUNK_SIZE, chunks, coupling_record, couplings_in, unique_ids
from bc_tui.store.models import Coupling
from bc_tui.store.records import CouplingRecord, SyncResult, normalize_id


def get_coupling(coupling_id: int) -> CouplingRecord | None:
    """The coupling with this id, or None."""
    row = Coupling.get_or_none(Coupling.id == coupling_id)
    return coupling_record(row) if row else None


def get_by_bc_id(mapping: str, bc_id: str) -> CouplingRecord | None:
    """The coupling of the BC record ``bc_id`` (its SystemId) in ``mapping``, or None."""
    row = Coupling.get_or_none((Coupling.mapping == mapping) & (Coupling.bc_id == normalize_id(bc_id)))
    return coupling_record(row) if row else None


def get_by_dataverse_id(mapping: str, dataverse_id: str) -> CouplingRecord | None:
    """The coupling of the Dataverse record ``dataverse_id`` in ``mapping``, or None."""
    query = (Coupling.mapping == mapping) & (Coupling.dataverse_id == normalize_id(dataverse_id))
    row = Coupling.get_or_none(query)
    return coupling_record(row) if row else None


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
    found: dict[int, CouplingRecord] = {}
    for column, ids in (("bc_id", bc_ids), ("dataverse_id", dataverse_ids)):
        for chunk in chunks(unique_ids(ids or ())):
            rows = couplings_in(mapping, column, chunk)
            # A coupling found by both of its ids is listed once.
            found.update((row.id, coupling_record(row)) for row in rows)
    return list(found.values())


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
        yield from (coupling_record(row) for row in rows)
        if len(rows) < batch_size:
            return
        last_id = rows[-1].id


def coupled_ids(mapping: str) -> tuple[set[str], set[str]]:
    """The BC ids and the Dataverse ids coupled in ``mapping`` (one query, two columns only:
    match-based coupling reads them for 100,000 couplings, not the whole records)."""
    query = Coupling.select(Coupling.bc_id, Coupling.dataverse_id).where(Coupling.mapping == mapping).tuples()
    bc_ids: set[str] = set()
    dataverse_ids: set[str] = set()
    rows: list[tuple[str, str]] = list(query)  # type: ignore[arg-type]
    for bc, dataverse in rows:
        bc_ids.add(bc)
        dataverse_ids.add(dataverse)
    return bc_ids, dataverse_ids


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
    bc = None if existing_bc_ids is None else set(unique_ids(existing_bc_ids))
    dataverse = None if existing_dataverse_ids is None else set(unique_ids(existing_dataverse_ids))
    return [
        record
        for record in iter_couplings(mapping)
        if (bc is not None and record.bc_id not in bc)
        or (dataverse is not None and record.dataverse_id not in dataverse)
    ]


def problem_couplings(mapping: str | None = None) -> list[CouplingRecord]:
    """Couplings that are skipped, failed or in conflict in either direction, or broken, oldest
    problem first."""
    problems = (SyncResult.FAILURE.value, SyncResult.CONFLICT.value)
    query = Coupling.select().where(
        (Coupling.skipped == True)  # noqa: E712
        | Coupling.to_dataverse_result.in_(problems)
        | Coupling.from_dataverse_result.in_(problems)
        | Coupling.deleted_side.is_null(False)
    )
    if mapping is not None:
        query = query.where(Coupling.mapping == mapping)
    return [coupling_record(row) for row in query.order_by(Coupling.updated_at, Coupling.id)]
