"""Match-Based Coupling (docs/coupling-and-sync.md "Match-based coupling").

Couple many uncoupled BC records to Dataverse records by field values.

Both sides are streamed page by page (inside the mapping's table filters, only the fields the
criteria need), matched by the domain in one linear hash-based pass, and coupled in bulk. BC
records without a unique uncoupled match are created in Dataverse when Create New is on, else
reported. Everything is logged as one match-based coupling job.
"""

from __future__ import annotations

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
from bc_tui.store.coupling_queries import iter_couplings
from bc_tui.store.coupling_writes import couple_many, update_cached_names
from bc_tui.store.database import atomic
from bc_tui.store.errors import CouplingError
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord, normalize_id
from bc_tui.sync.create import create_counterparts_in_dataverse
from bc_tui.sync.errors import SyncError, as_sync_error, plain
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import ID_CHUNK, Record, ids_filter, pages
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE
from bc_tui.sync.synchronize import synchronize_many

#: Pairs per bulk coupling (a few queries each).
COUPLE_CHUNK = 500


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
        coupled_bc: set[str] = set()
        coupled_dv: set[str] = set()
        with as_sync_error():
            for record in await session.db(lambda: list(iter_couplings(mapping.name))):
                coupled_bc.add(record.bc_id)
                coupled_dv.add(record.dataverse_id)
        run.working_on("Reading Dataverse")
        dataverse_records = await _read_dataverse(session, mapping, chosen)
        run.working_on("Reading Business Central")
        bc_records = await _read_bc(session, mapping, chosen, coupled_bc, bc_ids)
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
        matched = [r for r in results if r.matched]
        for start in range(0, len(matched), COUPLE_CHUNK):
            chunk = matched[start : start + COUPLE_CHUNK]
            with as_sync_error():
                outcomes = await session.db(_couple_chunk, mapping.name, chunk, by_id)
            for result, outcome in zip(chunk, outcomes, strict=True):
                description = describe_bc(mapping, by_id[result.bc_id])
                if isinstance(outcome, CouplingRecord):
                    coupled_now.append(result.bc_id)
                    run.record(
                        Outcome.COUPLED, bc_id=result.bc_id, dataverse_id=result.dataverse_id, description=description
                    )
                else:
                    run.record(Outcome.FAILED, plain(outcome), bc_id=result.bc_id, description=description)
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


async def _read_dataverse(
    session: SyncSession, mapping: TableMapping, criteria: Sequence[MatchCriterion]
) -> list[Record]:
    fields = _unique([mapping.dataverse_key, mapping.dataverse_name_field, *_dataverse_fields(criteria)])
    records: list[Record] = []
    async for page in pages(DATAVERSE_SIDE, session, mapping, select=fields):
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
    fields = _unique(["id", "number", "displayName", *(f for c in criteria for f in bc_fields_of(c.field))])
    records: list[Record] = []
    wanted = list(dict.fromkeys(normalize_id(i) for i in only)) if only is not None else None
    filters = (
        [None]
        if wanted is None
        else [ids_filter("id", wanted[start : start + ID_CHUNK]) for start in range(0, len(wanted), ID_CHUNK)]
    )
    for filter in filters:
        async for page in pages(BC_SIDE, session, mapping, filter=filter, select=fields):
            for record in page:
                record["id"] = normalize_id(str(record["id"]))
                if (
                    record["id"] not in coupled
                ):  # only uncoupled BC records are considered (docs/coupling-and-sync.md "Match-based coupling")
                    records.append(record)
    return records


def _dataverse_fields(criteria: Sequence[MatchCriterion]) -> list[str]:
    return [f for c in criteria for f in dataverse_fields_of(c.field)]


def _couple_chunk(
    mapping_name: str, chunk: Sequence[MatchResult], by_id: dict[str, Record]
) -> list[CouplingRecord | CouplingError]:
    """Couple one chunk of matches and cache their names (on the database thread)."""
    outcomes = couple_many(mapping_name, [(r.bc_id, r.dataverse_id or "") for r in chunk])
    _cache_names([o for o in outcomes if isinstance(o, CouplingRecord)], by_id)
    return outcomes


def _cache_names(made: list[CouplingRecord], by_id: dict[str, Record]) -> None:
    """Remember number and name on the new couplings, for the lists (one transaction per chunk)."""
    with atomic():
        for coupling in made:
            record = by_id.get(coupling.bc_id)
            if record is not None and coupling.bc_number is None:
                update_cached_names(
                    coupling.id,
                    bc_number=str(record.get("number") or "") or None,
                    display_name=str(record.get("displayName") or "") or None,
                )


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
