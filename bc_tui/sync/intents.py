"""Create intents: the record about to be created, finishing a creation (coupling the created
record to its source, forgetting the intent) and finding what an earlier attempt already
created (docs/interrupted-jobs.md; on BC by the values sent, ``refind.py``).

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
from bc_tui.sync.journal import created as created_entry
from bc_tui.sync.records import Record, fetch
from bc_tui.sync.refind import candidates
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
    #: The intent was left by an earlier run: its record may exist already.
    left_behind: bool = False


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
                entry = created_entry(
                    mapping, coupling, destination, body, created_row, run.job_id, description=description
                )
                record_changes([entry])

    try:
        await session.db(complete)
    except StoreError as error:
        run.record(Outcome.FAILED, plain(error), bc_id=bc_id, dataverse_id=dataverse_id, description=description)
        return
    run.record(
        Outcome.INSERTED, bc_id=normalize_id(bc_id), dataverse_id=normalize_id(dataverse_id), description=description
    )


async def found_again(
    session: SyncSession,
    mapping: TableMapping,
    destination: SideDescription[Any],
    intents: Sequence[CreateIntentRecord],
) -> dict[int, list[Record]]:
    """For each intent (by its id), the records of ``destination`` its create may have made.

    Where the key was planned (Dataverse), the row with that key, if any; else (BC, numbered by
    its number series) the uncoupled records holding the values sent (``refind.py``): one is the
    record made, more than one cannot be told apart.
    """
    if not intents:
        return {}
    if destination.planned_key is None:
        return await candidates(session, mapping, destination, intents)
    keys = {intent.id: normalize_id(intent.destination_id or intent.planned_id) for intent in intents}
    rows = await fetch(destination, session, mapping, list(keys.values()))
    return {intent_id: [rows[key]] if key in rows else [] for intent_id, key in keys.items()}


async def look_up(
    session: SyncSession, mapping: TableMapping, destination: SideDescription[Any], items: Sequence[Pending]
) -> dict[str, list[Record]]:
    """Of these pending creations, the records of ``destination`` each may have made, by source id."""
    found = await found_again(session, mapping, destination, [item.intent for item in items])
    return {item.source_id: found.get(item.intent.id, []) for item in items}


async def adopt(
    session: SyncSession,
    run: JobLog,
    mapping: TableMapping,
    destination: SideDescription[Any],
    items: Sequence[Pending],
    found: Mapping[str, Sequence[Record]],
) -> list[Pending]:
    """Complete the creations that already happened (their one record found, see :func:`look_up`)
    and fail those whose record cannot be told apart from others; the rest, in order, are returned."""
    rest: list[Pending] = []
    for item in items:
        rows = found.get(item.source_id, ())
        if len(rows) == 1:
            bc_id, dataverse_id, bc_record = created_pair(
                destination, destination.record_id(mapping, rows[0]), rows[0], item.source_id, item.source
            )
            await finish_creation(
                session, run, mapping, item.intent, bc_id, dataverse_id, item.description, bc_record, item.body
            )
        elif rows:
            run.record(
                Outcome.FAILED,
                cannot_tell(mapping, destination, item.description, rows),
                **destination.other.ids(item.source_id),
                description=item.description,
            )
        else:
            rest.append(item)
    return rest


def cannot_tell(
    mapping: TableMapping, destination: SideDescription[Any], description: str, rows: Sequence[Record]
) -> str:
    """The sentence for an interrupted create whose record is one of several alike (the intent stays)."""
    shown = ", ".join(destination.describe(mapping, row) for row in rows[:5]) + (", …" if len(rows) > 5 else "")
    return (
        f"The interrupted creation of the counterpart of the {description} may have made any of {len(rows)} "
        f"uncoupled {destination.noun(mapping)}s in {destination.service} that hold its values ({shown}), so "
        "bc-tui created no other; couple the right one with Set Up Coupling."
    )
