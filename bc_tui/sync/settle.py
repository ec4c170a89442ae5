"""Settle the creations an ended job left half done (docs/interrupted-jobs.md).

``create.py`` stores a create intent before every create. A job that ends while creating (killed,
power loss, connection lost) leaves intents behind. Before any job runs on a table mapping,
:func:`resume_pending_creates` settles them: a record that was created is adopted (coupled), an
intent whose record never reached the destination is dropped, so the source stays uncoupled and
the next job asking for it creates or matches it cleanly. A BC record is found again by the
values sent (``refind.py``); where several records could be the one, the intent stays and the
user is asked to couple by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.create_intents import abandon_intent
from bc_tui.store.interrupted import settleable_intents
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CreateIntentRecord, Side, normalize_id
from bc_tui.sync.intents import CHUNK, cannot_tell, created_pair, finish_creation, found_again
from bc_tui.sync.job_log import JobLog, JobSummary, ProgressCallback
from bc_tui.sync.records import fetch
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import SideDescription, side_of


async def resume_pending_creates(
    session: SyncSession, mapping_name: str | None = None, *, progress: ProgressCallback | None = None
) -> JobSummary:
    """Finish or abandon the creations an interrupted run left behind (docs/interrupted-jobs.md).

    An intent whose record exists on the destination is completed (the pair is coupled:
    ``inserted``); one whose record was never created is forgotten (``skipped``, with the reason)
    so that creating that record again starts cleanly; one whose BC record cannot be told apart
    from others alike fails and stays (``failed``, asking to couple by hand). Intents of a job
    still running in a live process are left to it. Every job on a table mapping calls this first (see ``JobRun``).
    """
    async with JobLog(JobType.CREATION, mapping=mapping_name, progress=progress, db=session.db) as run:
        intents = await session.db(settleable_intents, mapping_name)  # after JobRun marked the dead jobs interrupted
        run.set_total(len(intents))
        groups: dict[tuple[str, Side], list[CreateIntentRecord]] = {}
        for intent in intents:
            groups.setdefault((intent.mapping, intent.source_side), []).append(intent)
        for (name, side), group in groups.items():
            mapping = session.mapping(name)
            for start in range(0, len(group), CHUNK):
                await _settle_chunk(session, mapping, side_of(side), group[start : start + CHUNK], run)
    return run.summary


async def _settle_chunk(
    session: SyncSession,
    mapping: TableMapping,
    source: SideDescription[Any],
    intents: Sequence[CreateIntentRecord],
    run: JobLog,
) -> None:
    """Settle intents of one mapping and source side, looking their records up in one request."""
    destination = source.other
    noun = source.noun(mapping)
    # The source records, so that the log names them as the user knows them (number and name)
    # and an adopted coupling keeps them, as every other coupling does.
    sources = await fetch(source, session, mapping, [i.source_id for i in intents])
    found = await found_again(session, mapping, destination, intents)
    coupled = await session.db(source.couplings_by_id, mapping.name, [i.source_id for i in intents])
    for intent in intents:
        record = sources.get(normalize_id(intent.source_id))
        # A record gone since has only its id to name it by.
        description = f"{noun} {intent.source_id}" if record is None else source.describe(mapping, record)
        ids = {source.id_keyword: intent.source_id}
        rows = found.get(intent.id, [])
        if intent.source_id in coupled:
            # Coupled since (e.g. by hand, or an older bc-tui): the coupling stands, the intent goes.
            await session.db(abandon_intent, intent.id)
            made = ", ".join(destination.record_id(mapping, row) for row in rows)
            # Only a planned key says which record it made; BC's lookalikes are not named as ours.
            known_made = destination.planned_key is not None and len(rows) == 1
            run.record(
                Outcome.SKIPPED,
                f"The {description} was coupled since its creation was interrupted, so that creation was not "
                "finished" + (f"; the record it created ({made}) stays uncoupled." if known_made else "."),
                description=description,
                **ids,
            )
        elif len(rows) == 1:
            bc_id, dataverse_id, bc_record = created_pair(
                destination, destination.record_id(mapping, rows[0]), rows[0], intent.source_id, record
            )
            await finish_creation(session, run, mapping, intent, bc_id, dataverse_id, description, bc_record)
        elif rows:
            # Several records alike: the intent stays, so no later run creates yet another.
            run.record(
                Outcome.FAILED, cannot_tell(mapping, destination, description, rows), description=description, **ids
            )
        else:
            await session.db(abandon_intent, intent.id)
            run.record(
                Outcome.SKIPPED,
                f"The interrupted creation of the counterpart of the {description} never reached "
                f"{destination.service}; create it again.",
                description=description,
                **ids,
            )


__all__ = ["resume_pending_creates"]
