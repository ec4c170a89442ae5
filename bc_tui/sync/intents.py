"""Create intents: the record about to be created, finishing a creation (coupling the created
record to its source, forgetting the intent) and finding what an earlier attempt already
created (docs/interrupted-jobs.md).

Shared by creating (``create.py``) and by settling what an interrupted job left (``settle.py``),
which runs before any job opens and so cannot build on the creation use case itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.create_intents import complete_intent
from bc_tui.store.database import atomic
from bc_tui.store.errors import StoreError
from bc_tui.store.history import record_changes
from bc_tui.store.records import CreateIntentRecord, normalize_id
from bc_tui.sync.errors import plain
from bc_tui.sync.job_log import JobLog
from bc_tui.sync.journal import created
from bc_tui.sync.records import Record, fetch, rows_where
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SIDES, SideDescription

#: Records per round (read, intents, one batch, couple): progress and crash granularity.
CHUNK = 200

#: A created pair: its BC id, its Dataverse id and the BC record (the coupling keeps its number
#: and name).
Created = tuple[str, str, Record | None]


@dataclass
class Pending:
    """One record whose counterpart is about to be created."""

    source_id: str
    source: Record
    description: str
    intent: CreateIntentRecord
    body: dict[str, Any] = field(default_factory=dict)


def created_pair(
    destination: SideDescription[Any], created_id: str, created: Record | None, source_id: str, source: Record | None
) -> Created:
    """The pair a creation on ``destination`` made, in BC-then-Dataverse order."""
    made = {destination: (created_id, created), destination.other: (source_id, source)}
    return made[BC_SIDE][0], made[DATAVERSE_SIDE][0], made[BC_SIDE][1]


async def finish_creation(
    session: SyncSession,
    run: JobLog,
    mapping: TableMapping,
    intent: CreateIntentRecord,
    bc_id: str,
    dataverse_id: str,
    description: str,
    bc_record: Mapping[str, Any] | None,
    body: Mapping[str, Any] | None = None,
) -> None:
    """Couple the pair and forget the intent (one transaction), and count the record.

    ``body``: what the creation sent, kept with the job for undo and history (not known for a
    record an interrupted job created and this one only finds)."""
    destination = SIDES[intent.source_side].other
    created_row = dict(bc_record) if bc_record is not None and destination is BC_SIDE else None

    def complete() -> None:
        with atomic():
            coupling = complete_intent(
                intent.id,
                bc_id=bc_id,
                dataverse_id=dataverse_id,
                bc_number=str(bc_record.get("number") or "") or None if bc_record else None,
                display_name=str(bc_record.get("displayName") or "") or None if bc_record else None,
            )
            if body is not None:
                entry = created(mapping, coupling, destination, body, created_row, run.job_id, description=description)
                record_changes([entry])

    try:
        await session.db(complete)
    except StoreError as error:
        run.record(Outcome.FAILED, plain(error), bc_id=bc_id, dataverse_id=dataverse_id, description=description)
        return
    run.record(
        Outcome.INSERTED, bc_id=normalize_id(bc_id), dataverse_id=normalize_id(dataverse_id), description=description
    )


def planned_key(destination: SideDescription[Any], intent: CreateIntentRecord) -> str:
    """What the intent's record is found by on ``destination``: its planned value (on Dataverse,
    where that is the key, the record's id once known)."""
    if destination.planned_is_key:
        return normalize_id(intent.destination_id or intent.planned_id)
    return intent.planned_id


async def created_records(
    session: SyncSession, mapping: TableMapping, destination: SideDescription[Any], planned: Sequence[str]
) -> dict[str, Record]:
    """The records of ``destination`` that hold these planned values (see :func:`planned_key`),
    keyed by that value."""
    if not planned:
        return {}
    if destination.planned_is_key:
        return await fetch(destination, session, mapping, planned)
    name = destination.planned_field(mapping)
    rows = await rows_where(
        destination, session, destination.kind(mapping), name, planned, select=destination.identity_fields(mapping)
    )
    return {str(row[name]): row for row in rows}


async def created_in(
    session: SyncSession, mapping: TableMapping, destination: SideDescription[Any], items: Sequence[Pending]
) -> dict[str, Created]:
    """Of these pending creations, those whose record exists on ``destination`` (found by its
    planned value), keyed by source id."""
    existing = await created_records(session, mapping, destination, [planned_key(destination, p.intent) for p in items])
    return {
        item.source_id: created_pair(destination, str(row[destination.key(mapping)]), row, item.source_id, item.source)
        for item in items
        if (row := existing.get(planned_key(destination, item.intent))) is not None
    }


async def adopt(
    session: SyncSession, run: JobLog, mapping: TableMapping, items: Sequence[Pending], created: Mapping[str, Created]
) -> list[Pending]:
    """Complete the creations that already happened; the others, in order, are returned."""
    rest: list[Pending] = []
    for item in items:
        if item.source_id in created:
            bc_id, dataverse_id, bc_record = created[item.source_id]
            await finish_creation(
                session, run, mapping, item.intent, bc_id, dataverse_id, item.description, bc_record, item.body
            )
        else:
            rest.append(item)
    return rest
