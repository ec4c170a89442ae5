"""Synchronize modified records: what changed on either side since the last run.

See docs/coupling-and-sync.md "Synchronizing modified records" and "Table and field mappings".

Per table mapping and side a watermark (``store.watermarks``) holds a modified time up to which
every change has been read; a run reads only records modified from it on (``lastModifiedDateTime
ge …`` in BC, ``modifiedon ge …`` in Dataverse: whole-second stamps tie with it), plus the couplings whose
last synchronization in that direction failed (so they are retried, docs/coupling-and-sync.md "What a coupling
remembers, and Skipped"). A bidirectional mapping runs BC → Dataverse first, then Dataverse → BC. Each pair
is decided field by field (docs/coupling-and-sync.md "Conflicts, field by field": a field changed on one
side flows to the other in either pass); conflicting fields follow the mapping's Resolve Update Conflicts
policy, deleted counterparts its Resolve Deletion Conflicts policy.

The watermark a pass leaves behind is the *service's* clock at the moment the pass started
(the ``Date`` header of a read made just before the first page), less :data:`OVERLAP`: pages
are read in key order over seconds or minutes, so a record edited while the pass runs may sit
on a page already read, and only a watermark from before the first page can be sure to catch
it next time. The overlap is read again on the next run; a record read again whose ETag is the
one its coupling recorded at its last synchronization has not changed, and is left out of the
job entirely (not written, not counted). A watermark moves only after its pass finished: a run
that breaks off reads the same records again next time. docs/watermarks.md says why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bc_tui.connectors import filters as odata
from bc_tui.connectors.models import parse_datetime
from bc_tui.domain.mappings import Direction, SyncDirection, TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import watermarks
from bc_tui.store.coupling_queries import couplings_by_bc_id, problem_couplings
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord
from bc_tui.sync.create import create_counterparts_in_dataverse, create_in_bc
from bc_tui.sync.engine import run_pairs, summary_message
from bc_tui.sync.pairs import Pair, load_coupled_pairs
from bc_tui.sync.pipeline import chunk_by_chunk, pipelined
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import ETAG, Record, fetch, pages, service_time
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SideDescription, source_side

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE

#: Records planned and written as one round (a chunk of a page read).
PAGE_SIZE = 200
#: Rows per page read from a side. Pages are read one after another (each follows the link the
#: one before gave), so at a real service's latency fewer, larger pages cost fewer round trips;
#: each page is cut into rounds of :data:`PAGE_SIZE`, read ahead (``sync.pipeline``).
READ_PAGE_SIZE = 1000

#: How far before the service time at which a pass started its watermark is set, so that the
#: next run reads that stretch again. It covers the whole-second clocks (the ``Date`` header
#: and Dataverse's ``modifiedon`` are both cut to the second), a clock difference between the
#: service's web front end and its database, and a save whose modified time was stamped before
#: our first page was read but that committed only after it (a long plug-in or AL trigger).
#: Reading the overlap again costs reads only: unchanged records are left out by their ETag.
OVERLAP = timedelta(seconds=60)

#: Private switch for the colleague-editing benchmark: True brings back the old watermark (the
#: newest modified time seen on any page), which loses edits made during a run. Never set it
#: in production code.
_NEWEST_SEEN_WATERMARK = False


def directions_of(mapping: TableMapping) -> tuple[SyncDirection, ...]:
    """The passes a run makes, in order: BC → Dataverse first, then Dataverse → BC.

    See docs/coupling-and-sync.md "Synchronizing modified records".
    """
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
    coupled (by the creation use case: idempotent and duplicate-safe). Each record's result is in the summary;
    the job message reads
    "The synchronization has run for N of M records. F records failed. S records were skipped."
    """
    mapping = session.mapping(mapping_name)
    async with _synchronization_job(session, mapping, progress) as run:
        for direction in directions_of(mapping):
            await _pass(session, mapping, direction, run, _conflicts_so_far(run))
        run.message = summary_message(run)
    return run.summary


async def _pass(
    session: SyncSession, mapping: TableMapping, direction: SyncDirection, run: JobRun, conflicts: set[str]
) -> None:
    """One direction: modified source records, then the couplings whose last try failed.

    ``conflicts``: the BC ids an earlier pass of this job found in conflict. A conflict is a
    state of the pair, not of a direction: this pass would find it again and report it twice
    (docs/coupling-and-sync.md "A conflict's state"), so it leaves them out."""
    side = source_side(direction)
    since = await session.db(watermarks.get_watermark, mapping.name, side.side)
    # The service's clock before the first page is read: every change committed after this
    # moment is either on a page still to come or will be read again by the next run.
    started = await _server_time(session, mapping, side)
    newest = since
    seen: set[str] = set(conflicts)  # BC ids handled in this pass, or left out of it

    async def read(page: list[Record]) -> tuple[list[Record], list[Pair]]:
        return page, await _pairs_for_page(session, mapping, side, direction, page)

    async def handle(read_page: tuple[list[Record], list[Pair]]) -> None:
        nonlocal newest
        page, found = read_page
        newest = _latest(newest, page, side)
        pairs = [p for p in found if p.bc_id not in seen]
        coupled = [p for p in pairs if p.coupling is not None]
        seen.update(p.bc_id for p in coupled)
        run.add_total(len(coupled))
        await run_pairs(session, mapping, direction, coupled, run)
        if not mapping.sync_only_coupled:
            await _insert_uncoupled(session, mapping, side, page, run)

    # The next rounds' pages and counterparts are read while this round is written (sync.pipeline).
    await pipelined(_rounds(_modified_pages(session, mapping, side, since)), read, handle)
    retry = [c for c in await session.db(_failed_couplings, mapping, direction) if c.bc_id not in seen]
    if retry:
        run.add_total(len(retry))
        await run_pairs(session, mapping, direction, await load_coupled_pairs(session, mapping, retry), run)
    mark = next_watermark(since, started, newest)
    if mark is not None and mark != since:
        await session.db(watermarks.advance_watermark, mapping.name, side.side, mark)


async def synchronize_couplings_again(
    session: SyncSession,
    mapping_name: str,
    couplings: list[CouplingRecord],
    *,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Synchronize ``couplings`` of ``mapping_name`` now, as the next run of
    :func:`synchronize_modified` would retry them, in one job (the errors screen's Retry).

    Each coupling is synchronized in the passes of the mapping's direction in which its last
    synchronization failed or found a conflict (in the first pass when it has no such problem),
    decided field by field with the mapping's own conflict policy, as a modified run decides it;
    a conflict an earlier pass found is not reported twice. The watermarks do not move: only
    these couplings are read. See docs/coupling-and-sync.md "What a coupling remembers, and Skipped".
    """
    mapping = session.mapping(mapping_name)
    wanted = [c.bc_id for c in couplings]
    async with _synchronization_job(session, mapping, progress) as run:
        passes = directions_of(mapping)
        for index, direction in enumerate(passes):
            conflicts = _conflicts_so_far(run)
            now = await session.db(_current_couplings, mapping.name, wanted)
            todo = [
                c
                for c in now
                if c.bc_id not in conflicts
                and not c.broken
                and (c.problem(direction) or (index == 0 and not any(c.problem(d) for d in passes)))
            ]
            if todo:
                run.add_total(len(todo))
                await run_pairs(session, mapping, direction, await load_coupled_pairs(session, mapping, todo), run)
        run.message = summary_message(run)
    return run.summary


def _current_couplings(mapping_name: str, bc_ids: list[str]) -> list[CouplingRecord]:
    """The couplings of ``bc_ids`` as the store has them now (on the database thread)."""
    found = couplings_by_bc_id(mapping_name, bc_ids)
    return [found[i] for i in bc_ids if i in found]


def next_watermark(since: datetime | None, started: datetime | None, newest_seen: datetime | None) -> datetime | None:
    """Where a finished pass leaves the watermark: the service time at which it started, less
    :data:`OVERLAP`; without a service time (no ``Date`` header) it stays where it was, so
    nothing is skipped — every run then reads from the same point again."""
    if _NEWEST_SEEN_WATERMARK:
        return newest_seen
    if started is None:
        return since
    return started - OVERLAP


async def _server_time(session: SyncSession, mapping: TableMapping, side: SideDescription[Any]) -> datetime | None:
    if _NEWEST_SEEN_WATERMARK:
        return None  # the old strategy never asked
    return await service_time(session, mapping, side)


def modified_after(field: str, moment: datetime) -> str:
    """``field ge <moment>``, the moment in UTC with its full fraction (``filters.quote`` keeps
    only milliseconds; a watermark is whole seconds today, but one stored by an older bc-tui
    may not be).

    ``ge``, not ``gt``: where a service shows whole seconds, an edit made in the watermark's
    own second shows the watermark itself, and ``gt`` would lose it. Reading that second again
    costs reads only (unchanged records are left out by their ETag)."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f"{odata.field(field)} ge {text}"


def _modified_pages(
    session: SyncSession, mapping: TableMapping, side: SideDescription[Any], since: datetime | None
) -> AsyncIterator[list[Record]]:
    expression = modified_after(side.modified_field, since) if since else None
    return pages(side, session, mapping, expression, page_size=PAGE_SIZE if chunk_by_chunk() else READ_PAGE_SIZE)


async def _rounds(stream: AsyncIterator[list[Record]]) -> AsyncIterator[list[Record]]:
    """The pages of ``stream`` cut into rounds of at most :data:`PAGE_SIZE` records."""
    async for page in stream:
        for start in range(0, len(page), PAGE_SIZE):
            yield page[start : start + PAGE_SIZE]


async def _pairs_for_page(
    session: SyncSession,
    mapping: TableMapping,
    side: SideDescription[Any],
    direction: SyncDirection,
    page: list[Record],
) -> list[Pair]:
    """The coupled pairs (and uncoupled BC records) of one page of modified records of ``side``,
    without the records read again that did not change (their counterparts are not even read)."""
    other = side.other
    records = {side.record_id(mapping, r): r for r in page}
    found = await session.db(side.couplings_by_id, mapping.name, list(records))
    for record_id in [i for i, c in found.items() if unchanged_since_last_sync(c, records[i], side, direction)]:
        del records[record_id], found[record_id]
    counterparts = await fetch(other, session, mapping, [other.id_of(c) for c in found.values()])
    pairs = []
    for record_id, record in records.items():
        coupling = found.get(record_id)
        counterpart_id = other.id_of(coupling) if coupling else None
        bc_id = side.ids(record_id, counterpart_id)[BC_SIDE.id_keyword]
        if bc_id is None:
            continue  # an uncoupled Dataverse record: no BC id to report it under
        halves = {side: record, other: counterparts.get(counterpart_id) if counterpart_id else None}
        pairs.append(Pair(bc_id, coupling, halves[BC_SIDE], halves[DATAVERSE_SIDE]))
    return pairs


def unchanged_since_last_sync(
    coupling: CouplingRecord, record: Record, side: SideDescription[Any], direction: SyncDirection
) -> bool:
    """True for a record read again (the watermark's overlap, or our own write read back) that
    has nothing new to say: it still has the ETag its coupling recorded at its last
    synchronization and that synchronization in ``direction`` did not fail (a failed one is
    tried again); or its coupling is Skipped and the record was not modified after bc-tui last
    tried it (it was reported then). Changes on the other side are the other pass's business.
    """
    if coupling.skipped:
        # The ETag at the failure is not kept; the time of the last try is. Comparing the
        # service's modified time with our clock can only be off by the clocks' difference:
        # then a Skipped record is reported once more, or a change to it is not reported until
        # it is retried; it is not synchronized either way.
        tried = [t for t in (coupling.to_dataverse_at, coupling.from_dataverse_at) if t is not None]
        modified = parse_datetime(record.get(side.modified_field))
        return bool(tried) and modified is not None and modified <= max(tried)
    recorded = side.recorded_etag(coupling)
    if not recorded or record.get(ETAG) != recorded:
        return False
    return not coupling.problem(direction)


async def _insert_uncoupled(
    session: SyncSession, mapping: TableMapping, side: SideDescription[Any], page: list[Record], run: JobRun
) -> None:
    """A mapping that synchronizes uncoupled records too: create their counterparts.

    See docs/coupling-and-sync.md "Synchronizing modified records" step 1.

    The creation use case does it (idempotent, duplicate-safe); BC → Dataverse inside this job,
    Dataverse → BC as its own creation job whose results are counted here too.
    """
    ids = [side.record_id(mapping, r) for r in page]
    found = await session.db(side.couplings_by_id, mapping.name, ids)
    uncoupled = [i for i in ids if i not in found]
    if not uncoupled:
        return
    run.add_total(len(uncoupled))
    if side is BC_SIDE:
        await create_counterparts_in_dataverse(session, mapping, uncoupled, run)
        return
    created = await create_in_bc(session, mapping.name, uncoupled)
    for result in created.results:
        run.record(
            result.outcome,
            result.message,
            bc_id=result.bc_id,
            dataverse_id=result.dataverse_id,
            description=result.description,
        )


def _failed_couplings(mapping: TableMapping, direction: SyncDirection) -> list[CouplingRecord]:
    """Couplings whose last synchronization in ``direction`` failed or found a conflict, and
    that are not Skipped."""
    return [c for c in problem_couplings(mapping.name) if not c.skipped and not c.broken and c.problem(direction)]


def _conflicts_so_far(run: JobRun) -> set[str]:
    """The BC ids of the records this job has found in conflict so far."""
    return {r.bc_id for r in run.results if r.outcome is Outcome.CONFLICT and r.bc_id}


def _latest(current: datetime | None, page: list[Record], side: SideDescription[Any]) -> datetime | None:
    for record in page:
        moment = parse_datetime(record.get(side.modified_field))
        if moment is not None and (current is None or moment > current):
            current = moment
    return current


__all__ = [
    "OVERLAP",
    "directions_of",
    "next_watermark",
    "synchronize_couplings_again",
    "synchronize_modified",
    "unchanged_since_last_sync",
]


def _synchronization_job(session: SyncSession, mapping: TableMapping, progress: ProgressCallback | None) -> JobRun:
    """The logged synchronization job of ``mapping`` in its own direction."""
    return JobRun(
        JobType.SYNCHRONIZATION,
        mapping=mapping.name,
        direction=mapping.direction.value,
        progress=progress,
        session=session,
    )
