"""Synchronize modified records: what changed on either side since the last run (§8, §11).

Per table mapping and side a watermark (``store.watermarks``) holds the latest modified time
already synchronized; a run reads only records modified after it (``lastModifiedDateTime gt …``
in BC, ``modifiedon gt …`` in Dataverse), plus the couplings whose last synchronization in that
direction failed (so they are retried, §7). A bidirectional mapping runs BC → Dataverse first,
then Dataverse → BC. Conflicts follow the mapping's Resolve Update Conflicts policy, deleted
counterparts its Resolve Deletion Conflicts policy. A watermark moves only after its pass
finished: a run that breaks off reads the same records again next time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

from bc_tui.connectors import filters as odata
from bc_tui.connectors.models import parse_datetime
from bc_tui.domain.diff import BC_MODIFIED, DATAVERSE_MODIFIED
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.store import couplings, watermarks
from bc_tui.store.couplings import CouplingRecord, Side, SyncResult, normalize_id
from bc_tui.store.jobs import JobType
from bc_tui.sync.create import create_counterparts_in_dataverse, create_in_bc
from bc_tui.sync.engine import Pair, load_coupled_pairs, run_pairs, summary_message
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import Record, bc_pages, dataverse_pages, fetch_bc, fetch_dataverse
from bc_tui.sync.session import SyncSession

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE

#: Records per page read from a side (each page is planned and written as one round).
PAGE_SIZE = 200


def directions_of(mapping: TableMapping) -> tuple[SyncDirection, ...]:
    """The passes a run makes, in order: BC → Dataverse first, then Dataverse → BC (§8)."""
    passes = []
    if mapping.direction in (Direction.BIDIRECTIONAL, Direction.TO_DATAVERSE) and mapping.allows(SEND):
        passes.append(SEND)
    if mapping.direction in (Direction.BIDIRECTIONAL, Direction.FROM_DATAVERSE) and mapping.allows(GET):
        passes.append(GET)
    return tuple(passes)


async def synchronize_modified(
    session: SyncSession, mapping_name: str, *, progress: ProgressCallback | None = None
) -> JobSummary:
    """Synchronize the records of ``mapping_name`` modified since the last run, in one job.

    Only coupled records are synchronized when the mapping says "sync only coupled records"
    (the default); otherwise the counterpart of an uncoupled modified record is created and
    coupled (by the creation use case: idempotent and duplicate-safe). Each record's result is in the summary; the job message reads
    "The synchronization has run for N of M records. F records failed. S records were skipped."
    """
    mapping = session.mapping(mapping_name)
    async with JobRun(
        JobType.SYNCHRONIZATION, mapping=mapping.name, direction=mapping.direction.value, progress=progress,
        session=session,
    ) as run:
        for direction in directions_of(mapping):
            await _pass(session, mapping, direction, run)
        run.message = summary_message(run)
    return run.summary


async def _pass(session: SyncSession, mapping: TableMapping, direction: SyncDirection, run: JobRun) -> None:
    """One direction: modified source records, then the couplings whose last try failed."""
    side = Side.BC if direction is SEND else Side.DATAVERSE
    since = watermarks.get_watermark(mapping.name, side)
    newest = since
    seen: set[str] = set()  # BC ids handled in this pass
    async for page in _modified_pages(session, mapping, side, since):
        newest = _latest(newest, page, side)
        pairs = [p for p in await _pairs_for_page(session, mapping, side, page) if p.bc_id not in seen]
        coupled = [p for p in pairs if p.coupling is not None]
        seen.update(p.bc_id for p in coupled)
        run.add_total(len(coupled))
        await run_pairs(session, mapping, direction, coupled, run)
        if not mapping.sync_only_coupled:
            await _insert_uncoupled(session, mapping, side, page, run)
    retry = [c for c in _failed_couplings(mapping, direction) if c.bc_id not in seen]
    if retry:
        run.add_total(len(retry))
        await run_pairs(session, mapping, direction, await load_coupled_pairs(session, mapping, retry), run)
    if newest is not None and newest != since:
        watermarks.advance_watermark(mapping.name, side, newest)


def modified_after(field: str, moment: datetime) -> str:
    """``field gt <moment>`` with the moment's microseconds (``filters.quote`` keeps only
    milliseconds, which would read the records at the watermark again on every run)."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f"{odata.field(field)} gt {text}"


async def _modified_pages(
    session: SyncSession, mapping: TableMapping, side: Side, since: datetime | None
) -> AsyncIterator[list[Record]]:
    if side is Side.BC:
        expression = modified_after(BC_MODIFIED, since) if since else None
        async for page in bc_pages(session, mapping, expression, page_size=PAGE_SIZE):
            yield page
    else:
        expression = modified_after(DATAVERSE_MODIFIED, since) if since else None
        async for page in dataverse_pages(session, mapping, expression, page_size=PAGE_SIZE):
            yield page


async def _pairs_for_page(session: SyncSession, mapping: TableMapping, side: Side, page: list[Record]) -> list[Pair]:
    """The coupled pairs (and uncoupled records) of one page of modified records of ``side``."""
    if side is Side.BC:
        bc_records = {normalize_id(str(r["id"])): r for r in page}
        found = couplings.couplings_by_bc_id(mapping.name, bc_records)
        dataverse = await fetch_dataverse(session, mapping, [c.dataverse_id for c in found.values()])
        return [
            Pair(bc_id, found.get(bc_id), record, dataverse.get(found[bc_id].dataverse_id) if bc_id in found else None)
            for bc_id, record in bc_records.items()
        ]
    dv_records = {normalize_id(str(r[mapping.dataverse_key])): r for r in page}
    found = couplings.couplings_by_dataverse_id(mapping.name, dv_records)
    bc = await fetch_bc(session, mapping, [c.bc_id for c in found.values()])
    pairs = []
    for dv_id, record in dv_records.items():
        coupling = found.get(dv_id)
        if coupling is None:
            continue  # an uncoupled Dataverse record has no BC id to report it under
        pairs.append(Pair(coupling.bc_id, coupling, bc.get(coupling.bc_id), record))
    return pairs


async def _insert_uncoupled(session: SyncSession, mapping: TableMapping, side: Side, page: list[Record], run: JobRun) -> None:
    """A mapping that synchronizes uncoupled records too: create their counterparts (§8 step 1).

    The creation use case does it (idempotent, duplicate-safe); BC → Dataverse inside this job,
    Dataverse → BC as its own creation job whose results are counted here too.
    """
    if side is Side.BC:
        ids = [normalize_id(str(r["id"])) for r in page]
        found = couplings.couplings_by_bc_id(mapping.name, ids)
        uncoupled = [i for i in ids if i not in found]
        if uncoupled:
            run.add_total(len(uncoupled))
            await create_counterparts_in_dataverse(session, mapping, uncoupled, run)
        return
    ids = [normalize_id(str(r[mapping.dataverse_key])) for r in page]
    found_dv = couplings.couplings_by_dataverse_id(mapping.name, ids)
    uncoupled = [i for i in ids if i not in found_dv]
    if not uncoupled:
        return
    run.add_total(len(uncoupled))
    created = await create_in_bc(session, mapping.name, uncoupled)
    for result in created.results:
        run.record(
            result.outcome, result.message, bc_id=result.bc_id, dataverse_id=result.dataverse_id,
            description=result.description,
        )


def _failed_couplings(mapping: TableMapping, direction: SyncDirection) -> list[CouplingRecord]:
    """Couplings whose last synchronization in ``direction`` failed and that are not Skipped."""
    return [
        c
        for c in couplings.problem_couplings(mapping.name)
        if not c.skipped and not c.broken and c.last_result(direction) is SyncResult.FAILURE
    ]


def _latest(current: datetime | None, page: list[Record], side: Side) -> datetime | None:
    field = BC_MODIFIED if side is Side.BC else DATAVERSE_MODIFIED
    for record in page:
        moment = parse_datetime(record.get(field))
        if moment is not None and (current is None or moment > current):
            current = moment
    return current


__all__ = ["directions_of", "synchronize_modified"]
