"""Synchronize Now (docs/coupling-and-sync.md "Synchronize Now").

One record in the direction the user chose, or several selected records.

One record: the user chose send, get or merge after reading :func:`bc_tui.sync.preview.preview_sync`;
that choice wins (``force``), but every write is guarded by the ETag the decision was based on,
so a record that changes while we synchronize is reported as a conflict and never overwritten.

Several records: send or get; a record is skipped (and the job says why) when it is not
coupled, is Skipped after a repeatable failure, or its destination changed since the last
synchronization. Records are read and written in chunks and batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from bc_tui.domain.mappings import SyncDirection
from bc_tui.store.coupling_queries import get_by_bc_id
from bc_tui.store.jobs import JobType
from bc_tui.store.records import normalize_id
from bc_tui.sync.engine import run_pairs, summary_message
from bc_tui.sync.errors import SyncError
from bc_tui.sync.pairs import Pair, load_pairs
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
    choices: Mapping[str, SyncDirection] | None = None,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Synchronize the BC record ``bc_id`` with its coupled Dataverse record in ``direction``.

    ``direction``: send (BC wins), get (Dataverse wins) or merge (each side's changes flow to
    the other; fields both sides changed need a winner in ``choices``, label → send/get, or the
    record is a conflict and nothing is written). The result (one record) is in the summary:
    modified / unchanged / conflict (with the fields) / skipped (not coupled, Skipped, or
    coupled to a deleted record — then the coupling is marked broken) / failed.
    """
    mapping = session.mapping(mapping_name)
    direction = SyncDirection(direction)
    bc_id = normalize_id(bc_id)
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
        await run_pairs(session, mapping, direction, [pair], run, force=True, choices=choices)
        run.message = summary_message(run)
    return run.summary


async def synchronize_many(
    session: SyncSession,
    mapping_name: str,
    bc_ids: Iterable[str],
    direction: SyncDirection,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Synchronize the selected BC records in ``direction`` (send or get), in one job.

    ``force``: the chosen side wins for every record, as for one record (match-based coupling's
    Synchronize After Coupling: freshly coupled records have no history, so otherwise their
    destination would count as changed and they would be skipped). Writes stay ETag-guarded;
    uncoupled and Skipped records are still skipped.

    Each record ends modified, unchanged, skipped (not coupled, Skipped, destination changed
    since the last synchronization, coupled to a deleted record), conflict (changed while we
    were writing) or failed, with the reason in the job's errors. The job message reads
    "The synchronization has run for N of M records. F records failed. S records were skipped."
    """
    mapping = session.mapping(mapping_name)
    direction = SyncDirection(direction)
    if direction is MERGE:
        raise SyncError("Several records are synchronized by sending or getting data; merge one record at a time.")
    ids = list(dict.fromkeys(normalize_id(i) for i in bc_ids if i))
    async with records_job(session, JobType.SYNCHRONIZATION, mapping.name, direction.value, len(ids), progress) as run:
        for start in range(0, len(ids), CHUNK):
            pairs = await load_pairs(session, mapping, ids[start : start + CHUNK])
            await run_pairs(session, mapping, direction, pairs, run, many=True, force=force)
        run.message = summary_message(run)
    return run.summary


__all__ = ["synchronize_many", "synchronize_one"]
