"""Match-Based Coupling (docs/coupling-and-sync.md "Match-based coupling").

Couple many uncoupled BC records to Dataverse records by field values.

Both sides are streamed page by page (inside the mapping's table filters, only the fields the
criteria need), matched by the domain in one linear hash-based pass, and coupled in bulk. BC
records without a unique uncoupled match are created in Dataverse when Create New is on, else
reported. Everything is logged as one match-based coupling job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence

from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.matching import (
    UNMATCHED,
    MatchCriterion,
    MatchResult,
    match_criteria,
    match_records,
    no_criteria_message,
)
from bc_tui.domain.names import dataverse_noun, describe_bc, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.domain.transformations import bc_fields_of, dataverse_fields_of
from bc_tui.store.coupling_queries import coupled_ids
from bc_tui.store.coupling_writes import couple_many
from bc_tui.store.errors import CouplingError
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord, normalize_id
from bc_tui.sync.create import create_counterparts_in_dataverse
from bc_tui.sync.errors import SyncError, as_sync_error, plain
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import ID_CHUNK, PAGE_SIZE, Record, ids_filter, pages
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE
from bc_tui.sync.synchronize import synchronize_many

#: Pairs per bulk coupling (a few queries each).
COUPLE_CHUNK = 500
#: Rows per page when reading both tables whole.
MATCH_PAGE_SIZE = PAGE_SIZE


async def match_based_coupling(
    session: SyncSession,
    mapping_name: str,
    criteria: Sequence[MatchCriterion] | None = None,
    *,
    create_new: bool = False,
    sync_after: SyncDirection | None = None,
    progress: ProgressCallback | None = None,
    bc_ids: Collection[str] | None = None,
) -> JobSummary:
    """Couple the mapping's uncoupled BC records to Dataverse records that match on ``criteria``.

    ``criteria`` None means the mapping's own (*Match on this Field*); an empty list is refused
    with "You must specify which fields … should be used for match-based coupling." Per BC
    record: ``coupled``, ``inserted`` (created in Dataverse, with ``create_new``), ``unmatched``
    ("no unique uncoupled matching entity was found": not a failure) or ``failed`` (why the
    coupling was refused).
    ``sync_after`` synchronizes the newly coupled records once in that direction. ``bc_ids``:
    only these BC records are matched (the marked ones), else all.
    """
    mapping = session.mapping(mapping_name)
    chosen = list(match_criteria(mapping) if criteria is None else criteria)
    if not chosen:
        raise SyncError(no_criteria_message(mapping.name))
    coupled_now: list[str] = []
    async with JobRun(JobType.MATCH_BASED_COUPLING, mapping=mapping.name, progress=progress, session=session) as run:
        with as_sync_error():
            coupled_bc, coupled_dv = await session.db(coupled_ids, mapping.name)
        run.working_on("Reading Business Central and Dataverse")
        # Both tables at once: each side waits on its own service (and its own concurrency cap).
        dataverse_records, bc_records = await asyncio.gather(
            _read_dataverse(session, mapping, chosen), _read_bc(session, mapping, chosen, coupled_bc, bc_ids)
        )
        run.set_total(len(bc_records))
        run.working_on("Matching")
        results = list(
            match_records(
                bc_records,
                dataverse_records,
                chosen,
                dataverse_key=mapping.dataverse_key,
                coupled_bc_ids=coupled_bc,
                coupled_dataverse_ids=coupled_dv,
                mapping_name=mapping.name,
            )
        )
        by_id = {record["id"]: record for record in bc_records}
        coupled_now = await _couple_matches(session, mapping, [r for r in results if r.matched], by_id, run)
        unmatched = [r.bc_id for r in results if not r.matched]
        if create_new and unmatched:
            run.working_on("Creating in Dataverse")
            # Matching already looked for a counterpart: what is left is created, as BC does.
            await create_counterparts_in_dataverse(session, mapping, unmatched, run, allow_duplicates=True)
        else:
            for bc_id in unmatched:
                description = describe_bc(mapping, by_id[bc_id])
                run.record(
                    Outcome.UNMATCHED,
                    f"{sentence(description)}: {UNMATCHED}. Couple it with Set Up Coupling, or run match-based "
                    f"coupling with Create New to create the {dataverse_noun(mapping)}.",
                    bc_id=bc_id,
                    description=description,
                )
        run.working_on(None)
        run.message = (
            f"{len(coupled_now)} of {len(results)} uncoupled records coupled"
            + (f", {run.counted(Outcome.INSERTED)} created" if create_new else "")
            + (f", {run.counted(Outcome.UNMATCHED)} unmatched" if run.counted(Outcome.UNMATCHED) else "")
            + "."
        )
    if sync_after is not None and coupled_now:
        await _synchronize(session, mapping, coupled_now, sync_after, progress)
    return run.summary


async def _couple_matches(
    session: SyncSession, mapping: TableMapping, matched: list[MatchResult], by_id: dict[str, Record], run: JobRun
) -> list[str]:
    """Couple the matches chunk by chunk and record each outcome; the BC ids coupled.

    The next chunk is queued on the database thread before this one's outcomes are recorded, so
    the store's work and the event loop's overlap; at any wait one chunk is in flight, as when
    each chunk was awaited alone (a job cancelled there leaves that chunk coupled, unlogged).
    """
    coupled_now: list[str] = []
    chunks = [matched[start : start + COUPLE_CHUNK] for start in range(0, len(matched), COUPLE_CHUNK)]
    if not chunks:
        return coupled_now
    writing = session.db.submit(_couple_chunk, mapping.name, chunks[0], by_id)
    for number, chunk in enumerate(chunks):
        with as_sync_error():
            outcomes = await writing
        if number + 1 < len(chunks):
            writing = session.db.submit(_couple_chunk, mapping.name, chunks[number + 1], by_id)
        for result, outcome in zip(chunk, outcomes, strict=True):
            description = describe_bc(mapping, by_id[result.bc_id])
            if isinstance(outcome, CouplingRecord):
                coupled_now.append(result.bc_id)
                run.record(
                    Outcome.COUPLED, bc_id=result.bc_id, dataverse_id=result.dataverse_id, description=description
                )
            else:
                run.record(Outcome.FAILED, plain(outcome), bc_id=result.bc_id, description=description)
    return coupled_now


async def _read_dataverse(
    session: SyncSession, mapping: TableMapping, criteria: Sequence[MatchCriterion]
) -> list[Record]:
    records: list[Record] = []
    fields = dataverse_match_fields(mapping, criteria)
    async for page in pages(DATAVERSE_SIDE, session, mapping, select=fields, page_size=MATCH_PAGE_SIZE):
        for record in page:
            record[mapping.dataverse_key] = normalize_id(str(record[mapping.dataverse_key]))
            records.append(record)
    return records


async def _read_bc(
    session: SyncSession,
    mapping: TableMapping,
    criteria: Sequence[MatchCriterion],
    coupled: set[str],
    only: Collection[str] | None = None,
) -> list[Record]:
    """The uncoupled BC records inside the table filter (``only``: of these ids, read by id)."""
    records: list[Record] = []
    wanted = list(dict.fromkeys(normalize_id(i) for i in only)) if only is not None else None
    filters = (
        [None]
        if wanted is None
        else [ids_filter("id", wanted[start : start + ID_CHUNK]) for start in range(0, len(wanted), ID_CHUNK)]
    )
    for filter in filters:
        async for page in pages(
            BC_SIDE, session, mapping, filter=filter, select=bc_match_fields(criteria), page_size=MATCH_PAGE_SIZE
        ):
            for record in page:
                record["id"] = normalize_id(str(record["id"]))
                if (
                    record["id"] not in coupled
                ):  # only uncoupled BC records are considered (docs/coupling-and-sync.md "Match-based coupling")
                    records.append(record)
    return records


def bc_match_fields(criteria: Sequence[MatchCriterion]) -> tuple[str, ...]:
    """The BC fields match-based coupling reads (``$select``): id, number, name and the criteria's."""
    return _unique(["id", "number", "displayName", *(f for c in criteria for f in bc_fields_of(c.field))])


def dataverse_match_fields(mapping: TableMapping, criteria: Sequence[MatchCriterion]) -> tuple[str, ...]:
    """The Dataverse attributes match-based coupling reads (``$select``): key, name and the criteria's."""
    return _unique(
        [
            mapping.dataverse_key,
            mapping.dataverse_name_field,
            *(f for c in criteria for f in dataverse_fields_of(c.field)),
        ]
    )


def _couple_chunk(
    mapping_name: str, chunk: Sequence[MatchResult], by_id: dict[str, Record]
) -> list[CouplingRecord | CouplingError]:
    """Couple one chunk of matches, their number and name cached for the lists, in one
    transaction (on the database thread)."""
    names = {r.bc_id: _names(by_id[r.bc_id]) for r in chunk if r.bc_id in by_id}
    return couple_many(mapping_name, [(r.bc_id, r.dataverse_id or "") for r in chunk], names=names)


def _names(record: Record) -> tuple[str | None, str | None]:
    return str(record.get("number") or "") or None, str(record.get("displayName") or "") or None


async def _synchronize(
    session: SyncSession,
    mapping: TableMapping,
    bc_ids: list[str],
    direction: SyncDirection,
    progress: ProgressCallback | None,
) -> None:
    # Freshly coupled records were never synchronized, so a normal run over many records would
    # skip them as "changed on the destination"; Synchronize After Coupling means "this side
    # wins", for the whole record: hence whole_record.
    await synchronize_many(session, mapping.name, bc_ids, direction, progress=progress, whole_record=True)


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))
