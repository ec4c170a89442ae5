"""The coupled-data synchronization errors: list them and resolve them.

See docs/coupling-and-sync.md "Deleted records and broken couplings" and "The synchronization log and its
errors".

The errors screen lists skipped, conflicting, failed and broken couplings, each once
(:func:`errors_overview`; docs/coupling-and-sync.md "A conflict's state"). Its actions: Retry / Retry All
(clear Skipped and synchronize those couplings at once, :func:`retry_now`; :func:`retry` only
clears, as ``bc-tui retry`` does), Synchronize (pick the side whose data wins, which settles a
conflict, :func:`synchronize_couplings`), Restore records (recreate the deleted side from the
survivor, :func:`restore_deleted`), Delete records (delete the survivor,
:func:`delete_survivor`), Delete couplings (:func:`remove_broken_couplings`) and Find for Deleted
(couplings whose BC record vanished, :func:`find_for_deleted`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bc_tui.connectors import ConnectorError, NotFound
from bc_tui.domain.mappings import SyncDirection, TableMapping
from bc_tui.domain.names import describe_bc, describe_dataverse, sentence
from bc_tui.domain.outcomes import Outcome
from bc_tui.store import jobs
from bc_tui.store.coupling_queries import get_coupling, problem_couplings
from bc_tui.store.coupling_writes import remove_coupling, remove_couplings
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord, SyncResult
from bc_tui.store.sync_state import clear_skipped, mark_broken
from bc_tui.sync.check import check_visible
from bc_tui.sync.engine import run_pairs, summary_message
from bc_tui.sync.errors import SyncError, plain
from bc_tui.sync.modified import synchronize_couplings_again
from bc_tui.sync.pairs import Pair, coupling_description, load_coupled_pairs, missing_side, pair_description
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback, records_job
from bc_tui.sync.records import ETAG, Record, fetch_bc, fetch_dataverse, pages
from bc_tui.sync.restore import restore_couplings
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE, SIDES, SideDescription

SEND, GET = SyncDirection.TO_DATAVERSE, SyncDirection.FROM_DATAVERSE


class ProblemKind(StrEnum):
    """Why a coupling is on the errors screen."""

    SKIPPED = "skipped"
    CONFLICT = "conflict"  # both records changed: waits for the user to pick a winner
    FAILED = "failed"
    BROKEN = "broken"


def kind_count(kind: ProblemKind | str, count: int) -> str:
    """``"2 conflicts"``, ``"1 conflict"``, ``"0 failed"``: a count of one kind of problem in words."""
    kind = ProblemKind(kind)
    word = "conflicts" if kind is ProblemKind.CONFLICT and count != 1 else kind.value
    return f"{count} {word}"


@dataclass(frozen=True)
class ProblemRow:
    """One row of "Coupled Data Synchronization Errors".

    See docs/coupling-and-sync.md "The synchronization log and its errors".
    """

    coupling_id: int
    mapping: str
    kind: ProblemKind
    description: str  # the BC record, e.g. "customer 10000 Adatum Corporation"
    bc_id: str
    record_exists: bool | None  # the BC record (None: not checked)
    coupled_to: str  # the Dataverse record, e.g. "account Adatum Corporation"
    dataverse_id: str
    coupled_record_exists: bool | None
    error: str
    failed_on: datetime | None


# --- the list ------------------------------------------------------------------------------------


async def errors_overview(
    session: SyncSession,
    mapping_name: str | None = None,
    *,
    check_records: bool = True,
    visible: Mapping[str, Sequence[str]] | None = None,
) -> list[ProblemRow]:
    """The skipped, conflicting, failed and broken couplings (of one mapping, or all), each once,
    oldest problem first.

    With ``check_records`` both records of each listed coupling, and of the couplings of the
    records in ``visible`` (BC SystemIds per table mapping: the rows a list shows), are looked up
    first in batched reads; a coupling with a record gone is marked broken and so listed without
    any synchronization (docs/coupling-and-sync.md "Checking couplings without a
    synchronization"). Then both records of each listed coupling are read to fill "record
    exists" / "coupled record exists" and the names. Without ``check_records`` only the coupling
    store is read (the errors screen offline).
    """
    if check_records:
        await _check_listed_and_visible(session, mapping_name, visible or {})
    overview = await session.db(jobs.errors_overview, mapping_name)
    grouped: dict[str, list[tuple[ProblemKind, CouplingRecord]]] = defaultdict(list)
    for kind, records in (
        (ProblemKind.SKIPPED, overview.skipped),
        (ProblemKind.CONFLICT, overview.conflict),
        (ProblemKind.FAILED, overview.failed),
        (ProblemKind.BROKEN, overview.broken),
    ):
        for record in records:
            grouped[record.mapping].append((kind, record))
    rows: list[ProblemRow] = []
    for name, items in grouped.items():
        mapping = session.mappings.get(name)
        bc: dict[str, Record] = {}
        dataverse: dict[str, Record] = {}
        if check_records and mapping is not None:
            bc = await fetch_bc(session, mapping, [c.bc_id for _, c in items])
            dataverse = await fetch_dataverse(session, mapping, [c.dataverse_id for _, c in items])
        for kind, coupling in items:
            rows.append(_row(mapping, kind, coupling, bc, dataverse, checked=check_records and mapping is not None))
    rows.sort(key=lambda r: (r.failed_on is None, r.failed_on or datetime.min, r.coupling_id))
    return rows


async def _check_listed_and_visible(
    session: SyncSession, mapping_name: str | None, visible: Mapping[str, Sequence[str]]
) -> None:
    """Check the couplings the errors screen lists and those of the visible records (per table
    mapping: one batched lookup of each side)."""
    listed: dict[str, list[CouplingRecord]] = defaultdict(list)
    for record in await session.db(problem_couplings, mapping_name):
        listed[record.mapping].append(record)
    for name in dict.fromkeys([*listed, *visible]):
        if name in session.mappings and (mapping_name is None or name == mapping_name):
            await check_visible(session, name, visible.get(name, ()), also=listed.get(name, ()))


def _row(
    mapping: TableMapping | None,
    kind: ProblemKind,
    coupling: CouplingRecord,
    bc: dict[str, Record],
    dataverse: dict[str, Record],
    *,
    checked: bool,
) -> ProblemRow:
    bc_record, dv_record = bc.get(coupling.bc_id), dataverse.get(coupling.dataverse_id)
    if mapping is None:
        description = f"{coupling.mapping} record {coupling.bc_number or coupling.bc_id}"
    else:
        description = describe_bc(mapping, bc_record) if bc_record else coupling_description(mapping, coupling)
    coupled_to = describe_dataverse(mapping, dv_record) if mapping and dv_record else coupling.dataverse_id
    if kind is ProblemKind.BROKEN:
        deleted_side = SIDES[coupling.deleted_side] if coupling.deleted_side is not None else DATAVERSE_SIDE
        deleted = f"{deleted_side.service} record"
        error = (
            f"{sentence(description)} is coupled to a deleted {deleted}. "
            "Restore the deleted record, delete the surviving one, or delete the coupling."
        )
        failed_on = coupling.updated_at
    else:
        error = _problem_error(coupling, kind)
        times = [t for t in (coupling.to_dataverse_at, coupling.from_dataverse_at) if t is not None]
        failed_on = max(times) if times else coupling.updated_at
    return ProblemRow(
        coupling_id=coupling.id,
        mapping=coupling.mapping,
        kind=kind,
        description=description,
        bc_id=coupling.bc_id,
        record_exists=(bc_record is not None) if checked else None,
        coupled_to=coupled_to,
        dataverse_id=coupling.dataverse_id,
        coupled_record_exists=(dv_record is not None) if checked else None,
        error=error,
        failed_on=failed_on,
    )


# --- retry and synchronize ---------------------------------------------------------------------


async def retry(
    session: SyncSession,
    coupling_ids: Iterable[int] | None = None,
    *,
    all: bool = False,
    mapping_name: str | None = None,
) -> int:
    """Retry / Retry All: clear Skipped so that the next synchronization includes the records.

    The remembered errors are cleared too (a retried record must fail identically twice more
    before it is skipped again); a record whose last synchronization failed counts as modified,
    so the next run picks it up. Returns how many couplings were retried.
    """
    if all:
        if mapping_name is not None:
            session.mapping(mapping_name)  # an unknown name is an error, not "nothing to retry"
        return await session.db(clear_skipped, None, mapping=mapping_name)
    if coupling_ids is None:
        raise SyncError("Choose the couplings to retry, or use Retry All.")
    return await session.db(clear_skipped, list(coupling_ids))


async def retry_now(
    session: SyncSession,
    coupling_ids: Iterable[int] | None = None,
    *,
    all: bool = False,
    mapping_name: str | None = None,
    progress: ProgressCallback | None = None,
) -> list[JobSummary]:
    """Retry / Retry All, run right away: clear Skipped (:func:`retry`), then synchronize exactly
    those couplings as the next synchronization of modified records would (the mapping's
    direction and conflict policy, ``modified.synchronize_couplings_again``), one job per table
    mapping involved. Broken couplings are left to their own fixes. Returns the jobs' summaries
    (none when there was nothing to retry)."""
    if all:
        if mapping_name is not None:
            session.mapping(mapping_name)  # an unknown name is an error, not "nothing to retry"
        coupling_ids = [c.id for c in await session.db(problem_couplings, mapping_name) if c.skipped]
    elif coupling_ids is None:
        raise SyncError("Choose the couplings to retry, or use Retry All.")
    ids = list(coupling_ids)
    await session.db(clear_skipped, ids)
    summaries = []
    for name, records in (await session.db(_by_mapping, ids)).items():
        records = [r for r in records if not r.broken]
        if records:
            summaries.append(await synchronize_couplings_again(session, name, records, progress=progress))
    return summaries


async def synchronize_couplings(
    session: SyncSession,
    coupling_ids: Iterable[int],
    direction: SyncDirection,
    *,
    progress: ProgressCallback | None = None,
) -> list[JobSummary]:
    """The errors screen's Synchronize: the side the user picked (send or get) wins.

    Skipped is cleared first; each write is still guarded by the ETag that was read. One job
    per table mapping involved.
    """
    direction = SyncDirection(direction)
    if direction not in (SEND, GET):
        raise SyncError("Pick the side whose data wins: send (Business Central) or get (Dataverse).")

    async def synchronize(run: JobRun, mapping: TableMapping, pairs: list[Pair]) -> None:
        await run_pairs(session, mapping, direction, pairs, run, force=True, whole_record=True)

    return await _one_job_per_mapping(
        session,
        coupling_ids,
        JobType.SYNCHRONIZATION,
        synchronize,
        progress=progress,
        direction=direction,
        prepare=lambda records: session.db(_cleared, records),
    )


# --- deletions (docs/coupling-and-sync.md "Deleted records and broken couplings") ---


async def restore_deleted(
    session: SyncSession, coupling_ids: Iterable[int], *, progress: ProgressCallback | None = None
) -> list[JobSummary]:
    """Restore records: recreate the deleted side of each broken coupling from the survivor and
    couple the new record (one job per table mapping; the creations are logged as creation jobs).

    A coupling whose two records both still exist is skipped (nothing to restore); one whose
    two records are both gone is removed.
    """

    async def restore(run: JobRun, mapping: TableMapping, pairs: list[Pair]) -> None:
        broken: list[tuple[CouplingRecord, SideDescription[Any]]] = []
        for pair in pairs:
            assert pair.coupling is not None
            description = pair_description(mapping, pair)
            if pair.bc is not None and pair.dataverse is not None:
                outcome = Outcome.SKIPPED
                reason = f"{sentence(description)} and its coupled record both exist; there is nothing to restore."
            elif pair.bc is None and pair.dataverse is None:
                await session.db(remove_coupling, pair.coupling.id)
                outcome = Outcome.UNCOUPLED
                reason = f"Both coupled records of {description} were deleted, so their coupling was deleted too."
            else:
                broken.append((pair.coupling, missing_side(pair)))
                continue
            run.record(
                outcome, reason, bc_id=pair.bc_id, dataverse_id=pair.coupling.dataverse_id, description=description
            )
        results = await restore_couplings(session, mapping, broken, job_id=run.job_id)
        for coupling, _ in broken:
            outcome, message = results[coupling.id]
            run.record(
                outcome,
                message,
                bc_id=coupling.bc_id,
                dataverse_id=coupling.dataverse_id,
                description=coupling_description(mapping, coupling),
            )

    return await _one_job_per_mapping(session, coupling_ids, JobType.CREATION, restore, progress=progress)


async def delete_survivor(
    session: SyncSession, coupling_ids: Iterable[int], *, progress: ProgressCallback | None = None
) -> list[JobSummary]:
    """Delete records: delete the surviving record of each broken coupling, and the coupling.

    The delete is guarded by the ETag just read. A coupling whose two records both exist is
    skipped (it is not broken: use Delete Coupling or synchronize instead).
    """

    async def delete(run: JobRun, mapping: TableMapping, pairs: list[Pair]) -> None:
        for pair in pairs:
            coupling = pair.coupling
            assert coupling is not None
            description = pair_description(mapping, pair)
            ids = {"bc_id": pair.bc_id, "dataverse_id": coupling.dataverse_id, "description": description}
            if pair.bc is not None and pair.dataverse is not None:
                run.record(
                    Outcome.SKIPPED,
                    f"{sentence(description)} and its coupled record both exist, so neither was deleted; "
                    "delete the coupling or synchronize instead.",
                    **ids,
                )
                continue
            survivor = missing_side(pair).other
            record = survivor.of_pair(pair)
            try:
                if record is not None:
                    await survivor.client(session).delete(
                        survivor.kind(mapping),
                        survivor.id_of(coupling),
                        str(record.get(ETAG) or "*"),
                        record=description,
                    )
            except NotFound:
                pass  # already gone: the goal is reached
            except ConnectorError as error:
                run.record(Outcome.FAILED, plain(error), **ids)
                continue
            await session.db(remove_coupling, coupling.id)
            run.record(Outcome.DELETED, None, **ids)

    return await _one_job_per_mapping(session, coupling_ids, JobType.SYNCHRONIZATION, delete, progress=progress)


async def _one_job_per_mapping(
    session: SyncSession,
    coupling_ids: Iterable[int],
    job_type: JobType,
    work: Callable[[JobRun, TableMapping, list[Pair]], Awaitable[None]],
    *,
    progress: ProgressCallback | None,
    direction: SyncDirection | None = None,
    prepare: Callable[[list[CouplingRecord]], Awaitable[list[CouplingRecord]]] | None = None,
) -> list[JobSummary]:
    """Run ``work`` on the coupled pairs of ``coupling_ids`` in one job per table mapping involved;
    the jobs' summaries. ``prepare`` turns a mapping's couplings into the ones the job handles."""
    summaries = []
    for name, records in (await session.db(_by_mapping, list(coupling_ids))).items():
        mapping = session.mapping(name)
        if prepare is not None:
            records = await prepare(records)
        value = direction.value if direction else None
        async with records_job(session, job_type, name, value, len(records), progress) as run:
            await work(run, mapping, await load_coupled_pairs(session, mapping, records))
            run.message = summary_message(run)
        summaries.append(run.summary)
    return summaries


async def remove_broken_couplings(
    session: SyncSession,
    coupling_ids: Iterable[int] | None = None,
    *,
    mapping_name: str | None = None,
) -> int:
    """Delete couplings: remove the given broken couplings (or every broken one, of one mapping
    or all); the records are untouched. Logged as an uncoupling job; returns how many."""
    if coupling_ids is None and mapping_name is not None:
        session.mapping(mapping_name)  # an unknown name is an error, not "nothing to delete"
    return await session.db(_remove_broken, list(coupling_ids) if coupling_ids is not None else None, mapping_name)


def _remove_broken(coupling_ids: list[int] | None, mapping_name: str | None) -> int:
    """The work of :func:`remove_broken_couplings` (on the database thread: no service call)."""
    if coupling_ids is not None:
        records = [c for c in (get_coupling(i) for i in coupling_ids) if c is not None and c.broken]
    else:
        records = [c for c in problem_couplings(mapping_name) if c.broken]
    by_mapping: dict[str, list[CouplingRecord]] = defaultdict(list)
    for record in records:
        by_mapping[record.mapping].append(record)
    for name, items in by_mapping.items():
        job = jobs.start_job(JobType.UNCOUPLING, mapping=name, message="Deleted the couplings of deleted records.")
        removed = remove_couplings(name, bc_ids=[c.bc_id for c in items])
        jobs.increment(job.id, uncoupled=len(removed))
        jobs.finish_job(job.id)
    return len(records)


async def find_for_deleted(
    session: SyncSession, mapping_name: str, *, check_dataverse: bool = False
) -> list[CouplingRecord]:
    """Find for Deleted: the couplings whose BC record no longer exists (and, with
    ``check_dataverse``, whose Dataverse record no longer exists); each is marked broken.

    Reads every record id of the side (one streamed query, ids only).
    """
    mapping = session.mapping(mapping_name)
    orphans: dict[int, tuple[CouplingRecord, SideDescription[Any]]] = {}
    for side in (BC_SIDE, DATAVERSE_SIDE) if check_dataverse else (BC_SIDE,):
        key = side.key(mapping)
        existing = [
            str(r[key]) async for page in pages(side, session, mapping, table_filter=False, select=(key,)) for r in page
        ]
        for coupling in await session.db(side.orphans, mapping.name, existing):
            orphans.setdefault(coupling.id, (coupling, side))  # a BC record found gone comes first
    return await session.db(_mark_broken, list(orphans.values()))


# --- helpers -------------------------------------------------------------------------------------


def _problem_error(coupling: CouplingRecord, kind: ProblemKind) -> str:
    """The remembered message of the direction that makes ``kind`` (a conflict's, for a conflict)."""
    wanted = SyncResult.CONFLICT if kind is ProblemKind.CONFLICT else SyncResult.FAILURE
    directions = (
        (coupling.to_dataverse_result, coupling.to_dataverse_error),
        (coupling.from_dataverse_result, coupling.from_dataverse_error),
    )
    errors = [error for result, error in directions if result is wanted and error]
    errors += [error for _, error in directions if error]
    if errors:
        return errors[0]
    if kind is ProblemKind.CONFLICT:
        return "Both records changed since the last synchronization; pick the side that wins."
    return "The last synchronization failed."


def _mark_broken(orphans: list[tuple[CouplingRecord, SideDescription[Any]]]) -> list[CouplingRecord]:
    """Mark each orphan's coupling broken on the side found deleted (on the database thread)."""
    return [mark_broken(coupling.id, side.side) for coupling, side in orphans]


def _cleared(records: list[CouplingRecord]) -> list[CouplingRecord]:
    """Clear Skipped on ``records`` and read them again (on the database thread)."""
    clear_skipped([c.id for c in records])
    return [c for c in (get_coupling(r.id) for r in records) if c is not None]


def _by_mapping(coupling_ids: Iterable[int]) -> dict[str, list[CouplingRecord]]:
    grouped: dict[str, list[CouplingRecord]] = defaultdict(list)
    for coupling_id in dict.fromkeys(coupling_ids):
        record = get_coupling(coupling_id)
        if record is not None:
            grouped[record.mapping].append(record)
    return grouped


__all__ = [
    "ProblemKind",
    "ProblemRow",
    "delete_survivor",
    "errors_overview",
    "find_for_deleted",
    "kind_count",
    "remove_broken_couplings",
    "restore_deleted",
    "retry",
    "retry_now",
    "synchronize_couplings",
]
