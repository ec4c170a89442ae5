"""Read-only coupling lookups the screens need before they start a use case (which records of
a selection are coupled, and to what); read on the session's database thread."""

from __future__ import annotations

from collections.abc import Iterable

from bc_tui.store.coupling_queries import couplings_by_bc_id, couplings_by_dataverse_id
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.session import SyncSession


async def couplings_of_bc_records(
    session: SyncSession, mapping_name: str, bc_ids: Iterable[str]
) -> dict[str, CouplingRecord]:
    """BC SystemId (normalized) → its coupling in ``mapping_name``; uncoupled ids are absent."""
    return await session.db(couplings_by_bc_id, mapping_name, list(bc_ids))


async def coupled_bc_ids(session: SyncSession, mapping_name: str, dataverse_ids: Iterable[str]) -> dict[str, str]:
    """Dataverse id → the coupled BC SystemId, for the coupled ones among ``dataverse_ids``."""
    found = await session.db(couplings_by_dataverse_id, mapping_name, list(dataverse_ids))
    return {dv: c.bc_id for dv, c in found.items()}


__all__ = ["coupled_bc_ids", "couplings_of_bc_records"]
