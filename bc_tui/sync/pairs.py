"""Coupled pairs as read now: a coupling (or a record that has none) with both of its records.

Both records of many couplings are read with chunked reads, never one GET per record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import bc_noun, describe, describe_bc
from bc_tui.store.coupling_queries import couplings_by_bc_id
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.records import Record, fetch_bc, fetch_dataverse
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SideDescription


@dataclass
class Pair:
    """A coupling (or a record that has none) with both records as read now (None: missing)."""

    bc_id: str
    coupling: CouplingRecord | None
    bc: Record | None
    dataverse: Record | None


def missing_side(pair: Pair) -> SideDescription[Any]:
    """The side whose record of a broken coupling is gone (the pair has the other one)."""
    return next((side for side in (BC_SIDE, DATAVERSE_SIDE) if side.of_pair(pair) is None), DATAVERSE_SIDE)


def pair_description(mapping: TableMapping, pair: Pair) -> str:
    """'customer 10000 Adatum Corporation' (or the Dataverse name, or the bare id)."""
    if pair.bc or pair.dataverse:
        return describe(mapping, pair.bc, pair.dataverse)
    number = pair.coupling.bc_number if pair.coupling else None
    name = pair.coupling.display_name if pair.coupling else None
    return describe(mapping, {"number": number, "displayName": name, "id": pair.bc_id})


def coupling_description(mapping: TableMapping, coupling: CouplingRecord) -> str:
    """The BC record of a coupling named from what the coupling keeps (its number and name, or its id)."""
    if coupling.bc_number or coupling.display_name:
        return describe_bc(mapping, {"number": coupling.bc_number, "displayName": coupling.display_name})
    return f"{bc_noun(mapping)} {coupling.bc_id}"


async def load_pairs(
    session: SyncSession,
    mapping: TableMapping,
    bc_ids: Sequence[str],
    *,
    bc_records: Mapping[str, Record] | None = None,
) -> list[Pair]:
    """Read the couplings of ``bc_ids`` and both records of each (chunked reads, no per-record GETs).

    ``bc_records`` are BC records already read (e.g. a page of modified records); the rest
    are fetched.
    """
    found = await session.db(couplings_by_bc_id, mapping.name, list(bc_ids))
    known = dict(bc_records or {})
    missing = [i for i in bc_ids if i not in known]
    # Both sides at once: each service's connector caps its own concurrency.
    bc, dataverse = await asyncio.gather(
        fetch_bc(session, mapping, missing), fetch_dataverse(session, mapping, [c.dataverse_id for c in found.values()])
    )
    known.update(bc)
    pairs = []
    for bc_id in bc_ids:
        coupling = found.get(bc_id)
        pairs.append(
            Pair(
                bc_id=bc_id,
                coupling=coupling,
                bc=known.get(bc_id),
                dataverse=dataverse.get(coupling.dataverse_id) if coupling else None,
            )
        )
    return pairs


async def load_coupled_pairs(
    session: SyncSession, mapping: TableMapping, coupled: Sequence[CouplingRecord]
) -> list[Pair]:
    """Both records of each coupling (chunked reads)."""
    bc, dataverse = await asyncio.gather(
        fetch_bc(session, mapping, [c.bc_id for c in coupled]),
        fetch_dataverse(session, mapping, [c.dataverse_id for c in coupled]),
    )
    return [Pair(c.bc_id, c, bc.get(c.bc_id), dataverse.get(c.dataverse_id)) for c in coupled]


async def current_pairs(session: SyncSession, mapping: TableMapping, pairs: list[Pair]) -> list[Pair]:
    """``pairs`` as they are now: a pair whose coupling changed since it was read (another job
    synchronized it meanwhile) is read again, both records and coupling; planning it from the
    old ETags would report a conflict that nobody made."""
    loaded = [p for p in pairs if p.coupling is not None]
    if not loaded:
        return pairs
    now = await session.db(couplings_by_bc_id, mapping.name, [p.bc_id for p in loaded])
    stale = {p.bc_id for p in loaded if now.get(p.bc_id) != p.coupling}
    if not stale:
        return pairs
    still = [now[p.bc_id] for p in loaded if p.bc_id in stale and p.bc_id in now]
    fresh = {p.bc_id: p for p in await load_coupled_pairs(session, mapping, still)}
    # A coupling removed meanwhile leaves an uncoupled record (planned as "not coupled").
    return [fresh.get(p.bc_id, Pair(p.bc_id, None, p.bc, None)) if p.bc_id in stale else p for p in pairs]
