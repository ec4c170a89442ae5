"""Check couplings: do both records of each coupling still exist? (docs/coupling-and-sync.md
"Checking couplings without a synchronization").

A coupling whose record is gone on one side or both is marked broken in the store, so that the
lists, the card and the errors screen show it and offer its fixes (restore, delete coupling,
delete the survivor) before any synchronization ran; a coupling marked broken whose two records
both exist again is unmarked. The records are looked up by id in batched reads (``records.fetch``:
``id eq … or …`` chunks, the key field only), never one GET per record.

:func:`find_broken` checks a few couplings quickly (what the errors screen lists, what a list
shows); :func:`check_couplings` checks a whole table mapping as a logged job with progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bc_tui.domain.mappings import TableMapping
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.coupling_queries import couplings_by_bc_id, couplings_by_dataverse_id, iter_couplings
from bc_tui.store.coupling_rows import update_ids
from bc_tui.store.jobs import JobType
from bc_tui.store.records import CouplingRecord, Side, normalize_id
from bc_tui.store.sync_state import mark_broken
from bc_tui.sync.pairs import coupling_description
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.records import fetch
from bc_tui.sync.session import SyncSession
from bc_tui.sync.sides import BC_SIDE, DATAVERSE_SIDE

#: Couplings looked up per step of a whole-mapping check: ten ``or`` chunks of each side, read
#: concurrently (the connectors cap the concurrency), then one progress report.
CHECK_STEP = 600


@dataclass(frozen=True)
class CheckedCoupling:
    """One coupling as checked: which of its records exist now."""

    coupling: CouplingRecord
    bc_exists: bool
    dataverse_exists: bool

    @property
    def broken(self) -> bool:
        """Whether a record of the coupling is gone."""
        return not (self.bc_exists and self.dataverse_exists)

    @property
    def deleted_side(self) -> Side | None:
        """The side to mark deleted (BC when both are gone: Restore then deletes the coupling)."""
        if not self.bc_exists:
            return Side.BC
        return None if self.dataverse_exists else Side.DATAVERSE


async def find_broken(
    session: SyncSession, mapping: TableMapping, couplings: Sequence[CouplingRecord]
) -> list[CheckedCoupling]:
    """Look both records of each coupling up (batched reads of the key field), record what was
    found in the store (broken marks set or cleared), and return each coupling as checked."""
    if not couplings:
        return []
    bc = await fetch(BC_SIDE, session, mapping, [c.bc_id for c in couplings], select=(BC_SIDE.key(mapping),))
    dataverse = await fetch(
        DATAVERSE_SIDE, session, mapping, [c.dataverse_id for c in couplings], select=(DATAVERSE_SIDE.key(mapping),)
    )
    checked = [CheckedCoupling(c, c.bc_id in bc, c.dataverse_id in dataverse) for c in couplings]
    await session.db(_record_found, checked)
    return checked


async def check_visible(
    session: SyncSession,
    mapping_name: str,
    bc_ids: Iterable[str] = (),
    *,
    dataverse_ids: Iterable[str] = (),
    also: Iterable[CouplingRecord] = (),
) -> list[CheckedCoupling]:
    """:func:`find_broken` for the couplings of these BC or Dataverse records (the rows a list
    shows) and the couplings ``also`` (what the errors screen lists); records that are not
    coupled are left out, and each coupling is looked up once."""
    mapping = session.mapping(mapping_name)
    found = {c.id: c for c in also}
    for by_id, ids in ((couplings_by_bc_id, bc_ids), (couplings_by_dataverse_id, dataverse_ids)):
        wanted = [normalize_id(i) for i in dict.fromkeys(ids) if i]
        if wanted:
            found.update((c.id, c) for c in (await session.db(by_id, mapping.name, wanted)).values())
    return await find_broken(session, mapping, list(found.values()))


async def check_couplings(
    session: SyncSession, mapping_name: str, *, progress: ProgressCallback | None = None
) -> JobSummary:
    """Check couplings: look up both records of every coupling of the table mapping, a step of
    :data:`CHECK_STEP` couplings at a time, as a logged job (cancellable between steps).

    An intact coupling counts as unchanged; a broken one as failed, with the sentence naming the
    deleted record and the fixes. The job's message says how many are broken.
    """
    mapping = session.mapping(mapping_name)
    couplings: list[CouplingRecord] = await session.db(lambda: list(iter_couplings(mapping.name)))
    async with JobRun(
        JobType.COUPLING_CHECK, mapping=mapping.name, total=len(couplings), progress=progress, session=session
    ) as run:
        broken = 0
        for start in range(0, len(couplings), CHECK_STEP):
            step = couplings[start : start + CHECK_STEP]
            run.working_on(coupling_description(mapping, step[0]))
            for item in await find_broken(session, mapping, step):
                description = coupling_description(mapping, item.coupling)
                ids = {"bc_id": item.coupling.bc_id, "dataverse_id": item.coupling.dataverse_id}
                if item.broken:
                    broken += 1
                    said = f"{broken_sentence(mapping, item)} {FIX_ON_ERRORS_SCREEN}"
                    run.record(Outcome.FAILED, said, description=description, **ids)
                else:
                    run.record(Outcome.UNCHANGED, description=description, **ids)
        run.message = checked_message(len(couplings), broken)
    return run.summary


def broken_sentence(mapping: TableMapping, item: CheckedCoupling) -> str:
    """What is wrong with a broken coupling, in one sentence (the fixes are said where they are)."""
    description = coupling_description(mapping, item.coupling)
    if not item.bc_exists and not item.dataverse_exists:
        gone = "both of its records were deleted"
    elif not item.bc_exists:
        gone = "its Business Central record was deleted"
    else:
        gone = "its Dataverse record was deleted"
    return f"The coupling of {description} is broken: {gone}."


#: Where a broken coupling found by the check is fixed (its failure message in the log).
FIX_ON_ERRORS_SCREEN = "Restore the record, delete the coupling or delete the surviving record on the errors screen."


def checked_message(total: int, broken: int) -> str:
    """``"Checked 120 couplings: 2 broken."``"""
    noun = "coupling" if total == 1 else "couplings"
    return f"Checked {total:,} {noun}: {broken:,} broken."


def _record_found(checked: Sequence[CheckedCoupling]) -> None:
    """Mark the broken couplings broken; unmark those marked broken whose records both exist
    (on the database thread)."""
    for item in checked:
        side = item.deleted_side
        if side is not None and item.coupling.deleted_side != side:
            mark_broken(item.coupling.id, side)
    intact = [item.coupling.id for item in checked if not item.broken and item.coupling.deleted_side is not None]
    if intact:
        update_ids(intact, deleted_side=None)


__all__ = [
    "CHECK_STEP",
    "FIX_ON_ERRORS_SCREEN",
    "CheckedCoupling",
    "broken_sentence",
    "check_couplings",
    "check_visible",
    "checked_message",
    "find_broken",
]
