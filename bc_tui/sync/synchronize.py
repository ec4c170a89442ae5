"""Synchronize Now (docs/coupling-and-sync.md "Synchronize Now").

One record in the direction the user chose, or several selected records.

Field by field (docs/coupling-and-sync.md "Conflicts, field by field"): a field changed on one side
only always flows to the other side; a side wins only the fields that really conflict.

One record: the user chose send (Business Central wins the conflicting fields), get (Dataverse
wins them) or merge (a winner per conflicting field) after reading
:func:`bc_tui.sync.preview.preview_sync`, or explicitly one side's whole record. Every write is
guarded by the ETag the decision was based on, so a record that changes while we synchronize is
reported as a conflict and never overwritten.

Several records: send or get with a conflict policy: skip a record with conflicting fields
(reported as a conflict), or let the run's side win them. A record is skipped (and the job says
why) when it is not coupled or is Skipped after a repeatable failure. Records are read and
written in chunks and batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from bc_tui.domain.decisions import Choices, ConflictPolicy, DecisionError, Edits, check_decision, run_choices
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.jobs import JobType
from bc_tui.store.records import normalize_id
from bc_tui.sync.engine import run_pairs, summary_message
from bc_tui.sync.errors import SyncError
from bc_tui.sync.pairs import Pair, load_pairs
from bc_tui.sync.pipeline import pipelined
from bc_tui.sync.progress import JobSummary, ProgressCallback, records_job
from bc_tui.sync.records import get_bc, get_dataverse
from bc_tui.sync.session import SyncSession

SEND, GET, MERGE = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE, SyncDirection.MERGE

#: Records read, planned and written per round in a run over many records.
CHUNK = 200


async def synchronize_one(
    session: SyncSession,
    mapping_name: str,
    bc_id: str,
    direction: SyncDirection,
    *,
    choices: Choices | None = None,
    edits: Edits | None = None,
    whole_record: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Synchronize the BC record ``bc_id`` with its coupled Dataverse record in ``direction``.

    Each side's changes flow to the other. ``direction``: send (BC wins the conflicting fields),
    get (Dataverse wins them) or merge (every conflicting field needs a winner in ``choices``,
    or the record is a conflict and nothing is written). ``choices``: label or ``"*"`` →
    send/get, the winner of that conflicting field (over the direction's); ``edits``: label →
    a value the user typed for a text field, written to both sides; ``whole_record`` (send or
    get): that side's record as a whole, overwriting every field that differs. Raises
    :class:`SyncError` for a choice or edit that does not fit the mapping. The result (one record) is in the summary:
    modified / unchanged / conflict (with the fields) / skipped (not coupled, Skipped, or
    coupled to a deleted record — then the coupling is marked broken) / failed.
    """
    mapping = session.mapping(mapping_name)
    direction = SyncDirection(direction)
    bc_id = normalize_id(bc_id)
    chosen = _checked(mapping, direction, choices, edits, ConflictPolicy.WIN)
    async with records_job(session, JobType.SYNCHRONIZATION, mapping.name, direction.value, 1, progress) as run:
        coupling = await session.db(get_by_bc_id, mapping.name, bc_id)
        if coupling is None:
            bc = await get_bc(session, mapping, bc_id)
            pair = Pair(bc_id, None, bc, None)
        else:
            bc, dataverse = await asyncio.gather(
                get_bc(session, mapping, bc_id), get_dataverse(session, mapping, coupling.dataverse_id)
            )
            pair = Pair(bc_id, coupling, bc, dataverse)
        await run_pairs(
            session, mapping, direction, [pair], run, force=True, whole_record=whole_record, choices=chosen, edits=edits
        )
        run.message = summary_message(run)
    return run.summary


async def synchronize_many(
    session: SyncSession,
    mapping_name: str,
    bc_ids: Iterable[str],
    direction: SyncDirection,
    *,
    conflicts: ConflictPolicy = ConflictPolicy.SKIP,
    choices: Choices | None = None,
    whole_record: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Synchronize the selected BC records in ``direction`` (send or get), in one job.

    Field by field: the other side's changes to fields the run's side did not change flow back.
    ``conflicts``: SKIP (a record with a conflicting field is a conflict, nothing of it written)
    or WIN (the run's side wins the conflicting fields); ``choices`` (label or ``"*"`` → send/get)
    name winners per field over that policy. ``whole_record``: the chosen side's record wins as a
    whole for every record (match-based coupling's Synchronize After Coupling). Writes stay
    ETag-guarded; uncoupled and Skipped records are still skipped.

    Each record ends modified, unchanged, skipped (not coupled, Skipped, coupled to a deleted
    record), conflict (conflicting fields with no winner, or changed while we were writing) or
    failed, with the reason in the job's errors. The job message reads
    "The synchronization has run for N of M records. F records failed. S records were skipped."
    """
    mapping = session.mapping(mapping_name)
    direction = SyncDirection(direction)
    if direction is MERGE:
        raise SyncError("Several records are synchronized by sending or getting data; merge one record at a time.")
    chosen = _checked(mapping, direction, choices, None, ConflictPolicy(conflicts))
    ids = list(dict.fromkeys(normalize_id(i) for i in bc_ids if i))
    async with records_job(session, JobType.SYNCHRONIZATION, mapping.name, direction.value, len(ids), progress) as run:

        async def read(chunk: list[str]) -> list[Pair]:
            return await load_pairs(session, mapping, chunk)

        async def handle(pairs: list[Pair]) -> None:
            await run_pairs(
                session, mapping, direction, pairs, run, many=True, whole_record=whole_record, choices=chosen
            )

        # The next chunks are read while this one is planned and written (sync.pipeline).
        await pipelined([ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK)], read, handle)
        run.message = summary_message(run)
    return run.summary


def _checked(
    mapping: TableMapping,
    direction: SyncDirection,
    choices: Choices | None,
    edits: Edits | None,
    policy: ConflictPolicy,
) -> dict[str, SyncDirection]:
    """The run's choices (the direction's side wins unnamed conflicting fields under ``WIN``),
    checked against the mapping before any job starts."""
    chosen = run_choices(direction, policy, {label: SyncDirection(side) for label, side in (choices or {}).items()})
    try:
        check_decision(mapping, chosen, edits or {})
    except DecisionError as error:
        raise SyncError(str(error)) from None
    return chosen


__all__ = ["synchronize_many", "synchronize_one"]
