"""Delete Coupling (docs/coupling-and-sync.md "Delete Coupling"): delete couplings; neither record is touched.
Logged as a delete-coupling job (stored with the job type ``uncoupling``, docs/keys-and-words.md)."""

from __future__ import annotations

from collections.abc import Iterable

from bc_tui.domain.names import bc_noun
from bc_tui.domain.outcomes import Outcome
from bc_tui.store.coupling_writes import remove_couplings
from bc_tui.store.jobs import JobType
from bc_tui.store.records import normalize_id
from bc_tui.sync.errors import SyncError, as_sync_error
from bc_tui.sync.progress import JobRun, JobSummary, ProgressCallback
from bc_tui.sync.session import SyncSession


async def delete_couplings(
    session: SyncSession,
    mapping_name: str,
    bc_ids: Iterable[str] | None = None,
    *,
    dataverse_ids: Iterable[str] | None = None,
    all_of_mapping: bool = False,
    progress: ProgressCallback | None = None,
) -> JobSummary:
    """Delete the couplings of the named records (by BC and/or Dataverse id), or of the whole
    mapping with ``all_of_mapping=True``. Records that were not coupled are reported skipped.
    """
    mapping = session.mapping(mapping_name)
    if not all_of_mapping and bc_ids is None and dataverse_ids is None:
        raise SyncError(f"Choose the records whose coupling to delete, or delete all couplings of {mapping.name}.")
    wanted_bc = [normalize_id(i) for i in bc_ids or ()]
    wanted_dv = [normalize_id(i) for i in dataverse_ids or ()]
    async with JobRun(
        JobType.UNCOUPLING,
        mapping=mapping.name,
        total=len(wanted_bc) + len(wanted_dv),
        progress=progress,
        session=session,
    ) as run:
        with as_sync_error():
            removed = await session.db(
                remove_couplings, mapping.name, bc_ids=wanted_bc, dataverse_ids=wanted_dv, all_of_mapping=all_of_mapping
            )
        if all_of_mapping:
            run.set_total(len(removed))
        for record in removed:
            description = f"{bc_noun(mapping)} {record.bc_number or record.bc_id}" + (
                f" {record.display_name}" if record.display_name else ""
            )
            run.record(Outcome.UNCOUPLED, bc_id=record.bc_id, dataverse_id=record.dataverse_id, description=description)
        found_bc = {r.bc_id for r in removed}
        found_dv = {r.dataverse_id for r in removed}
        # (noun, id, whether the id is BC's) of each named record that had no coupling
        not_coupled = [(bc_noun(mapping), i, True) for i in dict.fromkeys(wanted_bc) if i not in found_bc]
        not_coupled += [("Dataverse record", i, False) for i in dict.fromkeys(wanted_dv) if i not in found_dv]
        for noun, record_id, on_bc in not_coupled:
            run.record(
                Outcome.SKIPPED,
                f"The {noun} {record_id} was not coupled, so there was no coupling to delete.",
                bc_id=record_id if on_bc else None,
                dataverse_id=None if on_bc else record_id,
                description=f"{noun} {record_id}",
            )
        run.message = f"{len(removed)} coupling{'s' if len(removed) != 1 else ''} deleted."
    return run.summary
