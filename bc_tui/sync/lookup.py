"""Read-only coupling lookups the screens need before they start a use case (which records of
a selection are coupled, and to what)."""

from __future__ import annotations

from collections.abc import Iterable

from bc_tui.store import couplings as coupling_store
from bc_tui.store.couplings import CouplingRecord


def couplings_of_bc_records(mapping_name: str, bc_ids: Iterable[str]) -> dict[str, CouplingRecord]:
    """BC SystemId (normalized) → its coupling in ``mapping_name``; uncoupled ids are absent."""
    return coupling_store.couplings_by_bc_id(mapping_name, bc_ids)


def coupled_bc_ids(mapping_name: str, dataverse_ids: Iterable[str]) -> dict[str, str]:
    """Dataverse id → the coupled BC SystemId, for the coupled ones among ``dataverse_ids``."""
    return {dv: c.bc_id for dv, c in coupling_store.couplings_by_dataverse_id(mapping_name, dataverse_ids).items()}


__all__ = ["coupled_bc_ids", "couplings_of_bc_records"]
