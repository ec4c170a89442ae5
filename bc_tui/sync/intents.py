"""Finishing a creation: coupling the created record to its source and forgetting the create
intent, and finding the records an earlier attempt already created (docs/interrupted-jobs.md).

Shared by creating (``create.py``) and by settling what an interrupted job left (``settle.py``),
which runs before any job opens and so cannot build on the creation use case itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import couplings
from bc_tui.store.couplings import CreateIntentRecord, normalize_id
from bc_tui.store.errors import StoreError
from bc_tui.sync.errors import plain
from bc_tui.sync.job_log import JobLog
from bc_tui.sync.records import Record, bc_kind, bc_rows_where, fetch_dataverse
from bc_tui.sync.session import SyncSession

#: Records per round (read, intents, one batch, couple): progress and crash granularity.
CHUNK = 200


def finish_creation(
    run: JobLog,
    mapping: TableMapping,
    intent: CreateIntentRecord,
    bc_id: str,
    dataverse_id: str,
    description: str,
    bc_record: Mapping[str, Any] | None,
) -> None:
    """Couple the pair and forget the intent (one transaction), and count the record."""
    try:
        couplings.complete_intent(
            intent.id,
            bc_id=bc_id,
            dataverse_id=dataverse_id,
            bc_number=str(bc_record.get("number") or "") or None if bc_record else None,
            display_name=str(bc_record.get("displayName") or "") or None if bc_record else None,
        )
    except StoreError as error:
        run.record(Outcome.FAILED, plain(error), bc_id=bc_id, dataverse_id=dataverse_id, description=description)
        return
    run.record(Outcome.INSERTED, bc_id=normalize_id(bc_id), dataverse_id=normalize_id(dataverse_id), description=description)


async def dataverse_by_ids(session: SyncSession, mapping: TableMapping, ids: Sequence[str]) -> dict[str, Record]:
    """The Dataverse records with these (planned) ids, keyed by normalized id."""
    return await fetch_dataverse(session, mapping, ids) if ids else {}


async def bc_by_numbers(session: SyncSession, mapping: TableMapping, numbers: Sequence[str]) -> dict[str, Record]:
    """The BC records with these (planned) numbers, keyed by number."""
    if not numbers:
        return {}
    rows = await bc_rows_where(session, bc_kind(mapping), "number", numbers, select=("id", "number", "displayName"))
    return {str(row["number"]): row for row in rows}
