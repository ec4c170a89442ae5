"""Restoring deleted records: recreate the deleted side of a broken coupling from its survivor
and couple the new record (docs/coupling-and-sync.md "Deleted records and broken couplings").

Used by synchronizing (a mapping whose Resolve Deletion Conflicts policy restores) and by the
errors screen's Restore records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.names import sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import coupling_writes
from bc_tui.store.coupling_writes import remove_coupling
from bc_tui.store.database import atomic
from bc_tui.store.records import CouplingRecord, Side
from bc_tui.store.sync_state import mark_broken, record_sync_results
from bc_tui.sync.create import create_counterparts
from bc_tui.sync.job_log import RecordResult
from bc_tui.sync.pairs import coupling_description
from bc_tui.sync.records import fetch_bc, fetch_dataverse
from bc_tui.sync.remember import success_updates
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SideDescription


async def restore_couplings(
    session: SyncSession,
    mapping: TableMapping,
    broken: Sequence[tuple[CouplingRecord, SideDescription[Any]]],
    *,
    job_id: int,
) -> dict[int, tuple[Outcome, str | None]]:
    """Recreate the deleted side of each coupling (paired with it in ``broken``) from its survivor
    and couple the new record.

    The old coupling is replaced by the new one, whose sync state is that of a fresh
    synchronization (so the next sync sees nothing changed). When a record cannot be created the
    broken coupling is put back, marked broken, and the reason returned. Returns per coupling id
    the outcome (inserted / failed) and the message.
    """
    results: dict[int, tuple[Outcome, str | None]] = {}
    for deleted in (DATAVERSE_SIDE, BC_SIDE):  # BC → Dataverse first, as a synchronization runs
        survivor = deleted.other
        group = [coupling for coupling, gone in broken if gone is deleted]
        if not group:
            continue
        await session.db(_remove, group)
        summary = await create_counterparts(
            session, mapping.name, deleted, [survivor.id_of(c) for c in group], allow_duplicates=True
        )
        by_survivor = {(survivor.id_of(r) or "").lower(): r for r in summary.results}
        for coupling in group:
            result = by_survivor.get(survivor.id_of(coupling))
            results[coupling.id] = await _after_restore(session, mapping, coupling, result, deleted, job_id)
    return results


def _put_back(mapping_name: str, old: CouplingRecord, side: Side) -> None:
    """Couple the pair of ``old`` again, marked broken on ``side`` (on the database thread)."""
    restored = coupling_writes.couple(
        mapping_name, old.bc_id, old.dataverse_id, bc_number=old.bc_number, display_name=old.display_name
    )
    mark_broken(restored.id, side)


def _remove(records: Sequence[CouplingRecord]) -> None:
    with atomic():
        for coupling in records:
            remove_coupling(coupling.id)


async def _after_restore(
    session: SyncSession,
    mapping: TableMapping,
    old: CouplingRecord,
    result: RecordResult | None,
    deleted: SideDescription[Any],
    job_id: int,
) -> tuple[Outcome, str | None]:
    description = coupling_description(mapping, old)
    if result is not None and result.outcome is Outcome.INSERTED:
        survivor = deleted.other
        new = await session.db(survivor.coupling_by_id, mapping.name, survivor.id_of(old))
        if new is not None:
            bc = (await fetch_bc(session, mapping, [new.bc_id])).get(new.bc_id)
            dataverse = (await fetch_dataverse(session, mapping, [new.dataverse_id])).get(new.dataverse_id)
            if bc is not None and dataverse is not None:
                updates = success_updates(mapping, new, (deleted.written_by,), job_id, bc, dataverse)
                await session.db(record_sync_results, updates)
        return Outcome.INSERTED, None
    # Not created: put the broken coupling back so that it stays on the errors screen.
    await session.db(_put_back, mapping.name, old, deleted.side)
    reason = (result.message if result else None) or f"{sentence(description)} could not be restored."
    return Outcome.FAILED, reason
