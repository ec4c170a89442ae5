"""Coupling and deleting couplings: one pair, many pairs at once, and the one-to-one rule
that refuses a record already coupled to another one.

Ids are normalized to lower-case GUIDs without braces before they are stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bc_tui.store.coupling_queries import (
    couplings_by_bc_id,
    couplings_by_dataverse_id,
    get_coupling,
    iter_couplings,
    list_couplings,
)
from bc_tui.store.coupling_rows import again_after_race, coupling_record, delete_ids, insert_new_couplings
from bc_tui.store.database import atomic
from bc_tui.store.errors import BcRecordAlreadyCoupledError, CouplingError, DataverseRecordAlreadyCoupledError
from bc_tui.store.fields import utc_now
from bc_tui.store.models import Coupling
from bc_tui.store.records import CouplingRecord, normalize_id


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
    return again_after_race(lambda: _couple(mapping, bc_id, dataverse_id, bc_number, display_name, replace))


def _couple(
    mapping: str, bc_id: str, dataverse_id: str, bc_number: str | None, display_name: str | None, replace: bool
) -> CouplingRecord:
    with atomic():
        holders = [
            coupling_record(row)
            for row in Coupling.select().where(
                (Coupling.mapping == mapping) & ((Coupling.bc_id == bc_id) | (Coupling.dataverse_id == dataverse_id))
            )
        ]
        by_bc = next((c for c in holders if c.bc_id == bc_id), None)
        by_dataverse = next((c for c in holders if c.dataverse_id == dataverse_id), None)
        if by_bc is not None and by_bc.dataverse_id == dataverse_id:
            return by_bc
        if replace:
            delete_ids([c.id for c in (by_bc, by_dataverse) if c is not None])
        else:
            _refuse_taken(mapping, by_bc, by_dataverse)
        row = Coupling.create(
            mapping=mapping,
            bc_id=bc_id,
            dataverse_id=dataverse_id,
            bc_number=bc_number,
            display_name=display_name,
        )
    return coupling_record(row)


#: A BC record's cached number and display name, as :func:`couple_many` takes them.
Names = tuple[str | None, str | None]


def couple_many(
    mapping: str, pairs: Iterable[tuple[str, str]], *, names: Mapping[str, Names] | None = None
) -> list[CouplingRecord | CouplingError]:
    """Couple many ``(bc_id, dataverse_id)`` pairs at once (match-based coupling, bulk creates).

    Same rules as :func:`couple` without ``replace``: the result lists, in input order, the
    coupling made (or already there) or the :class:`CouplingError` explaining why a pair was
    refused — also when two pairs of the same call claim one record. A few queries per 500 pairs.
    ``names`` (normalized BC id → number and display name) are cached on the new couplings in
    the same INSERT, and on a coupling already there that has none yet.
    """
    wanted = [(normalize_id(bc), normalize_id(dv)) for bc, dv in pairs]
    return again_after_race(lambda: _couple_many(mapping, wanted, names or {}))


def _couple_many(
    mapping: str, wanted: list[tuple[str, str]], names: Mapping[str, Names]
) -> list[CouplingRecord | CouplingError]:
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
                number, name = names.get(bc_id, (None, None))
                if existing.bc_number is None and (number or name):
                    update_cached_names(existing.id, bc_number=number, display_name=name)
                    existing = get_coupling(existing.id) or existing
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
        new_pairs = [pair for pair, outcome in zip(wanted, outcomes, strict=True) if outcome is None]
        created = insert_new_couplings(mapping, [(bc, dv, *names.get(bc, (None, None))) for bc, dv in new_pairs])
    return [outcome if outcome is not None else created[bc] for (bc, _), outcome in zip(wanted, outcomes, strict=True)]


def remove_coupling(coupling_id: int) -> CouplingRecord | None:
    """Delete one coupling by id; returns what was removed (None if it was already gone)."""
    with atomic():
        record = get_coupling(coupling_id)
        delete_ids([coupling_id])
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
        delete_ids([record.id for record in removed])
    return removed


def update_cached_names(coupling_id: int, *, bc_number: str | None, display_name: str | None) -> None:
    """Refresh the BC number and display name cached for lists."""
    Coupling.update(bc_number=bc_number, display_name=display_name, updated_at=utc_now()).where(
        Coupling.id == coupling_id
    ).execute()


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
