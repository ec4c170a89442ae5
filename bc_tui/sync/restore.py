"""Restoring deleted records: recreate the deleted side of a broken coupling from its survivor
and couple the new record (docs/coupling-and-sync.md "Deleted records and broken couplings").

Used by synchronizing (a mapping whose Resolve Deletion Conflicts policy restores) and by the
errors screen's Restore records.
"""

from __future__ import annotations

from collections.abc import Sequence

from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import couplings
from bc_tui.store.couplings import CouplingRecord, Side
from bc_tui.store.database import atomic
from bc_tui.sync.create import create_in_bc, create_in_dataverse
from bc_tui.sync.job_log import RecordResult
from bc_tui.sync.pairs import coupling_description
from bc_tui.sync.records import fetch_bc, fetch_dataverse
from bc_tui.sync.remember import remember_success
from bc_tui.sync.session import SyncSession

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE


async def restore_couplings(
    session: SyncSession,
    mapping: TableMapping,
    broken: Sequence[tuple[CouplingRecord, Side]],
    *,
    job_id: int,
) -> dict[int, tuple[Outcome, str | None]]:
    """Recreate the ``deleted`` side of each coupling from its survivor and couple the new record.

    The old coupling is replaced by the new one, whose sync state is that of a fresh
    synchronization (so the next sync sees nothing changed). When a record cannot be created the
    broken coupling is put back, marked broken, and the reason returned. Returns per coupling id
    the outcome (inserted / failed) and the message.
    """
    results: dict[int, tuple[Outcome, str | None]] = {}
    from_bc = [c for c, side in broken if side is Side.DATAVERSE]
    from_dataverse = [c for c, side in broken if side is Side.BC]
    if from_bc:
        _remove(from_bc)
        summary = await create_in_dataverse(session, mapping.name, [c.bc_id for c in from_bc], allow_duplicates=True)
        by_bc = {(r.bc_id or "").lower(): r for r in summary.results}
        for coupling in from_bc:
            result = by_bc.get(coupling.bc_id)
            results[coupling.id] = await _after_restore(session, mapping, coupling, result, Side.DATAVERSE, job_id)
    if from_dataverse:
        _remove(from_dataverse)
        summary = await create_in_bc(
            session, mapping.name, [c.dataverse_id for c in from_dataverse], allow_duplicates=True
        )
        by_dv = {(r.dataverse_id or "").lower(): r for r in summary.results}
        for coupling in from_dataverse:
            result = by_dv.get(coupling.dataverse_id)
            results[coupling.id] = await _after_restore(session, mapping, coupling, result, Side.BC, job_id)
    return results

def _remove(records: Sequence[CouplingRecord]) -> None:
    with atomic():
        for coupling in records:
            couplings.remove_coupling(coupling.id)

async def _after_restore(
    session: SyncSession,
    mapping: TableMapping,
    old: CouplingRecord,
    result: RecordResult | None,
    deleted: Side,
    job_id: int,
) -> tuple[Outcome, str | None]:
    description = coupling_description(mapping, old)
    if result is not None and result.outcome is Outcome.INSERTED:
        new = (
            couplings.get_by_bc_id(mapping.name, old.bc_id)
            if deleted is Side.DATAVERSE
            else couplings.get_by_dataverse_id(mapping.name, old.dataverse_id)
        )
        if new is not None:
            bc = (await fetch_bc(session, mapping, [new.bc_id])).get(new.bc_id)
            dataverse = (await fetch_dataverse(session, mapping, [new.dataverse_id])).get(new.dataverse_id)
            if bc is not None and dataverse is not None:
                direction = SEND if deleted is Side.DATAVERSE else GET
                remember_success(mapping, new, (direction,), job_id, bc, dataverse)
        return Outcome.INSERTED, None
    # Not created: put the broken coupling back so that it stays on the errors screen.
    restored = couplings.couple(mapping.name, old.bc_id, old.dataverse_id, bc_number=old.bc_number, display_name=old.display_name)
    couplings.mark_broken(restored.id, deleted)
    reason = (result.message if result else None) or f"{sentence(description)} could not be restored."
    return Outcome.FAILED, reason
